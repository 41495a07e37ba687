# Stand-in for the official python:3.11-slim: Debian bookworm's Python 3.11 and pip, with the
# names the official image gives them (python, pip) and pip allowed to install system-wide.
FROM debian:bookworm-slim
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      python3 python3-pip python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED \
 && ln -s /usr/bin/python3 /usr/local/bin/python \
 && ln -s /usr/bin/pip3 /usr/local/bin/pip \
 && python --version && pip --version
ENV PYTHONUNBUFFERED=1
CMD ["python3"]
