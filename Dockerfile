# kubetwin in a container, e.g. for sweeps on a cluster (examples/k8s/).
#
#   docker build -t kubetwin .
#   docker run --rm --user "$(id -u)" -v "$PWD/out:/out" kubetwin sweep thesis-2019 --pods 4,20 --delay 0ms,500ms --out /out
#
# Build stage: the toolchain of the workspace's rust-version.
FROM rust:1.89 AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p kubetwin

# Runtime stage: the binary only (it needs nothing beyond glibc; scenarios are built in or mounted).
FROM debian:bookworm-slim
COPY --from=build /src/target/release/kubetwin /usr/local/bin/kubetwin
RUN useradd --create-home --uid 10001 kubetwin
USER 10001
WORKDIR /home/kubetwin
ENTRYPOINT ["kubetwin"]
CMD ["--help"]
