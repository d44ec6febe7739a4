# OKRSignal's one image: the web process by default; docker-compose.yml runs the Celery worker, beat and
# the migrations from the same image with other commands.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN groupadd --system --gid 10001 okrsignal \
    && useradd --system --uid 10001 --gid okrsignal --home-dir /app --no-create-home okrsignal

# Dependencies first, read from pyproject.toml, so that a change to the code alone reuses this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
# Installed in place, so that the code the processes run is this tree, beside its templates and static files.
RUN pip install --no-deps --editable .

# The static files are collected into the image, compressed and fingerprinted (DEBUG off selects that
# storage). The settings refuse to load without a SECRET_KEY and INTEGRATION_ENCRYPTION_KEYS when DEBUG is
# off; these exist only for this step and are not kept in the image's environment.
RUN mkdir -p var \
    && DEBUG=false \
       SECRET_KEY=build-only-key-for-collectstatic-never-used-by-a-running-process \
       ALLOWED_HOSTS=build.invalid \
       INTEGRATION_ENCRYPTION_KEYS=YnVpbGQtb25seS1rZXktbmV2ZXItdXNlZC10by1ydW4= \
       python manage.py collectstatic --no-input \
    && chown -R okrsignal:okrsignal var

# var/ (collected static files, the beat schedule) is the only place the processes may write.
USER okrsignal

EXPOSE 8000
CMD ["gunicorn", "okrsignal.wsgi:application", "--bind", "0.0.0.0:8000"]
