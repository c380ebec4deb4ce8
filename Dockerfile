FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY booking_core ./booking_core
COPY read_models ./read_models
COPY projectors ./projectors
COPY api ./api
COPY migrations ./migrations
COPY tablebook ./tablebook
COPY resilience ./resilience
# The analytics extra (pyarrow) makes `tablebook events export --format parquet` work here.
RUN pip install '.[analytics]' && useradd --system --uid 10001 tablebook
USER tablebook
EXPOSE 8000
CMD ["tablebook", "serve", "--host", "0.0.0.0", "--port", "8000"]
