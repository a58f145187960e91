# The everyday commands. Each target is a thin name for a command documented in the README.
#
#   make run        the KV API on 127.0.0.1:8080, embedded store under ./data
#   make s3-server  the S3 server on 127.0.0.1:9000 (S3_SERVER_ACCESS_KEY / _SECRET_KEY required)
#   make test       the test command CI runs (scripts/test)
#   make bench      the benchmarks (release build): scripts/bench, bench-s3-server, bench-large
#   make verify     s3kv verify against URL (default http://127.0.0.1:8080)
#   make cluster    three instances behind nginx on the own S3 server, then verify, then stop
#   make up / down / logs   the compose setup with MinIO (docker-compose.yml)

URL ?= http://127.0.0.1:8080
COMPOSE ?= docker compose
SWIFT ?= swift

.PHONY: build release run s3-server test bench verify cluster up down logs clean

build:
	$(SWIFT) build --product s3kv

release:
	$(SWIFT) build -c release --product s3kv

run: build
	KV_STORAGE=$${KV_STORAGE:-local} .build/debug/s3kv serve

s3-server: build
	.build/debug/s3kv s3-server

test:
	scripts/test

bench: release
	scripts/bench
	scripts/bench-s3-server .build/release/s3kv
	scripts/bench-large .build/release/s3kv

verify: build
	.build/debug/s3kv verify --url $(URL)

cluster: build
	scripts/cluster --verify

up:
	$(COMPOSE) up --build -d

down:
	$(COMPOSE) down

logs:
	$(COMPOSE) logs -f

clean:
	rm -rf .build
