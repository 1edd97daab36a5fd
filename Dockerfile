# A small image holding netscript built as a static binary (Swift's static Linux SDK is not
# needed: --static-swift-stdlib links the Swift runtime in; glibc comes from the base image).
# docker build -t netscript .   then   docker run --rm netscript -e 'print "hello"'
FROM swift:6.0-bookworm AS build
WORKDIR /src
COPY . .
RUN apt-get update -qq && apt-get install -y -qq libedit-dev zlib1g-dev >/dev/null \
 && swift build -c release --static-swift-stdlib --product netscript \
 && cp .build/release/netscript /netscript

FROM debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libedit2 zlib1g ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /netscript /usr/local/bin/netscript
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/netscript"]
