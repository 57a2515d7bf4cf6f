# The daprjob wrapper image: one fully static binary at /daprjob, nothing else.
#
#   docker build -t daprjob .
#
# Two uses (see docs/binary-wrapper.md):
# - init container of wrapper mode `binary`: `daprjob install /.daprjob` copies the binary into
#   an emptyDir (the image has no shell and no `cp`);
# - a source in your own Dockerfile: `COPY --from=daprjob /daprjob /.daprjob/daprjob`.
#
# The binary is built for the build platform's architecture (x86_64 or aarch64) against musl,
# with --no-default-features (the in-pod wrapper only: exec, install) and the release profile
# of Cargo.toml (opt-level z, LTO, one codegen unit, panic=abort, stripped).
# scripts/build-static runs the same cargo command outside Docker.

ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
RUN target="$(uname -m)-unknown-linux-musl" \
 && cargo build --release --locked --no-default-features --target "$target" --bin daprjob \
 && mkdir /out \
 && cp "target/$target/release/daprjob" /out/daprjob \
 && /out/daprjob --version

FROM scratch
COPY --from=build /out/daprjob /daprjob
# Non-root by default; the init container of binary mode also sets runAsNonRoot, a read-only
# root filesystem and no capabilities. `install` only needs write access to its destination.
USER 65532:65532
ENTRYPOINT ["/daprjob"]
CMD ["--help"]
