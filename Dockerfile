# Backstop service image (CPU). Build: docker build -t backstop .
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    BACKSTOP_DATA_DIR=/data BACKSTOP_SERVER__HOST=0.0.0.0
WORKDIR /app
# torch first and pinned to a CPU build: a bare `torch` requirement pulls multi-GB CUDA wheels.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY backstop backstop
COPY fallback fallback
COPY mining mining
COPY models models
RUN pip install . && useradd --system --uid 10001 backstop && mkdir -p /data && chown backstop /data
USER backstop
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/readyz'); sys.exit(0)"
CMD ["backstop", "serve"]
