# The API image for the server profile (docker-compose.yml). Same code as the embedded
# profile; DATABASE_URL and QDRANT_URL point it at external Postgres and Qdrant.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    OPENBLAS_NUM_THREADS=1 \
    LODESTAR_DATA_DIR=/data \
    LODESTAR_LOG_JSON=true

WORKDIR /app
# CPU torch first and pinned, so that nothing later pulls a CUDA build.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
# Every other dependency at the exact version of the lock file, as `make install` does.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY api ./api
COPY evaluation ./evaluation
COPY retrieval ./retrieval
COPY indexing ./indexing
COPY data ./data
COPY models ./models
COPY ranking ./ranking
COPY migrations ./migrations
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && pip check

RUN useradd --create-home lodestar && mkdir -p /data && chown lodestar /data
USER lodestar
EXPOSE 8000
# Apply pending migrations, then serve; the API keeps no state of its own.
CMD ["sh", "-c", "lodestar migrate && exec lodestar serve --host 0.0.0.0 --port 8000"]
