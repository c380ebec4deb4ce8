"""booking_core"""
