# Stand-in for the official golang:<version>-bookworm: Debian bookworm with the Go toolchain of
# this machine, at the paths and with the environment the official image uses.
FROM debian:bookworm-slim
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
COPY go /usr/local/go
ENV GOPATH=/go PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin GOTOOLCHAIN=local
RUN mkdir -p /go/src /go/bin && chmod -R 1777 /go && go version
WORKDIR /go
