# The Wuhuan image: one image, three roles — `wuhuan worker`, `wuhuan api`, and the one-shot `wuhuan db upgrade`
# that brings the read model's schema to this release's head revision before they start (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WUHUAN_DATA_DIR=/data

WORKDIR /app
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN mkdir -p domain store activities workflows services api cli \
    && touch worker.py domain/__init__.py store/__init__.py activities/__init__.py workflows/__init__.py \
             services/__init__.py api/__init__.py cli/__init__.py \
    && pip install -e ".[postgres]"
COPY domain/ domain/
COPY store/ store/
COPY activities/ activities/
COPY workflows/ workflows/
COPY services/ services/
COPY api/ api/
COPY cli/ cli/
COPY worker.py ./

RUN useradd --system --home-dir /data wuhuan && mkdir -p /data && chown wuhuan /data
USER wuhuan
VOLUME /data
EXPOSE 8000
CMD ["wuhuan", "api"]
