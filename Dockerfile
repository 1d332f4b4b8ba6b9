# accessrecon: the server, the scheduler and the crawling worker in one image.
# Chromium comes from Debian, as on a native install; Playwright drives it.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium chromium-headless-shell fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ACCESSRECON_CHROMIUM_PATH=/usr/bin/chromium \
    ACCESSRECON_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY accessrecon ./accessrecon
COPY agent ./agent
COPY server ./server
COPY sandbox ./sandbox
COPY extension ./extension
RUN pip install .

RUN useradd --create-home --uid 10001 accessrecon \
    && mkdir -p /data && chown accessrecon /data
USER accessrecon
VOLUME ["/data"]
EXPOSE 8765
CMD ["accessrecon", "serve", "--host", "0.0.0.0", "--allow-non-loopback"]
