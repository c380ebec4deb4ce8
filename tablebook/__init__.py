"""tablebook"""
