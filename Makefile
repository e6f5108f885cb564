# fleetops.zombie_reaper: `make demo` shows the reaper at work, `make test` runs every test.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# podman on this kind of machine: runc, lowered ulimits (see molecule/containers.conf)
export CONTAINERS_CONF := $(CURDIR)/molecule/containers.conf
SANITY_ROOT := /tmp/fleetops-sanity/ansible_collections/fleetops/zombie_reaper

.PHONY: setup images demo demo-sandbox test test-python test-aarch64 test-ansible molecule fleet-smoke lint sanity bench \
	fleet fleet-down fleet-bench ee clean

setup:
	@./scripts/setup.sh

# The local Debian node images (debootstrap + podman import) and the containerd pods' OCI archives, each rebuilt
# only when its recipe changes.
images: setup
	@./molecule/images/build.sh
	@./molecule/images/pods.sh

# The main job on an embedded default: a podman fleet of three worker nodes, one leaking.
demo: images
	@./scripts/demo-fleet.sh

# The same case in a throwaway PID namespace on this machine (no containers): info, check, reap.
demo-sandbox: setup
	@./scripts/demo-sandbox.sh

test: setup test-python test-aarch64 test-ansible lint sanity molecule fleet-smoke
	@echo "make test: all suites passed"

# Every scenario: default (systemd timer, REAP), cron, defunct_sshd (modules ad hoc), node_exporter (Debian's
# package serves our metrics), absent, and on a containerd node (pods made through its CRI): containerd_sshd,
# containerd_probe_orphans, containerd_pid_pressure, containerd_seccomp; watch (watch mode's unit, without exit events).
molecule: images
	$(BIN)/molecule test --all

test-python:
	$(BIN)/pytest -q -p no:cacheprovider --durations=10 tests/unit tests/live

# The REAP rung's real-process tests again on a real aarch64 kernel (qemu-system-aarch64, emulated).
test-aarch64:
	./tests/aarch64/run.sh -q --durations=10

test-ansible:
	$(BIN)/pytest -q -p no:cacheprovider --durations=10 tests/ansible

lint:
	$(BIN)/ansible-lint --profile production --offline
	$(BIN)/antsibull-changelog lint
	# the engine runs on nodes with Python 3.8+: no newer syntax or unguarded newer APIs
	$(BIN)/vermin -t=3.8- --no-tips --violations --eval-annotations plugins/module_utils plugins/modules
	shellcheck scripts/*.sh .ci/run molecule/images/*.sh tests/aarch64/run.sh bench/guest.sh

# ansible-test needs the collection at .../ansible_collections/<namespace>/<name>: test a copy of the tracked files.
sanity:
	@rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)
	@git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ $(SANITY_ROOT)/
	cd $(SANITY_ROOT) && $(BIN)/ansible-test sanity --python 3.11 --color no

# Not part of `make test`: minutes of work and the machine should be quiet (see docs/benchmarks.md).
bench: setup
	$(BIN)/python bench/run.py
	$(BIN)/python bench/watch.py

# A simulated fleet over SSH, no network (scripts/fleet.sh, docs/fleet-scale.md): FLEET_NODES booted nodes,
# some leaking, three broken on purpose. `make fleet` starts it (removing an interrupted run's), `make fleet-down`
# removes it; `make fleet-bench` measures the playbooks against it and writes docs/fleet-scale.md.
FLEET_NODES ?= 50
fleet: images
	./scripts/fleet.sh up $(FLEET_NODES)

fleet-down:
	./scripts/fleet.sh down

fleet-bench: images
	./scripts/fleet.sh up $(FLEET_NODES)
	$(BIN)/python bench/fleet_scale.py; status=$$?; ./scripts/fleet.sh down; exit $$status

# The execution environment (ansible-builder 3 on a base built here; scripts/ee.sh).
ee: setup
	./scripts/ee.sh

# make fleet-bench's smoke: six nodes, audited and reaped over SSH (tests/fleet), the audit also in the EE.
fleet-smoke: images
	$(BIN)/pytest -q -p no:cacheprovider tests/fleet

clean:
	rm -rf .cache .collections
