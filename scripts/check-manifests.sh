#!/usr/bin/env bash
# Checks the deployment files (k8s/, deploy/) offline; `make lint` runs it.
#
#   1. kustomize renders k8s/base, k8s/overlays/small and k8s/overlays/national;
#   2. every rendered object validates against the Kubernetes JSON schemas of
#      $K8S_VERSIONS (default 1.32.0, the oldest version the manifests are for, and
#      1.37.0, the newest bundled), strictly: an unknown field or an apiVersion
#      without a schema fails;
#   3. deploy/compose.yaml validates against the compose-spec schema;
#   4. the systemd units pass `systemd-analyze verify` with no warning, and the
#      sysusers file `systemd-sysusers --dry-run` (skipped with a note where these
#      tools are missing);
#   5. every urna.yaml (each tier's ConfigMap, deploy/urna.yaml, the compose one) has
#      only keys of urna's configuration format (crates/urna-cli/src/server/config.rs;
#      the list below is compared with that file's documented format, so it cannot
#      drift) and passes the checks `urna serve` makes before binding a port, and
#      each configuration agrees with what runs it: listener ports are the
#      container's ports, the probes use the ops port, the files it names are
#      mounted (or, for systemd, loaded as credentials).
#
# The tools come from PyPI, installed once into $URNA_MANIFESTS_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/urna-manifests) and reused after that:
#   - kubernetes-validate (the Kubernetes schemas, bundled) and check-jsonschema
#     (the compose-spec schema, bundled), in a virtualenv;
#   - kustomize itself: no registry reachable here packages the kustomize binary, but
#     the pykustomize wheel ships kustomize's Go library (sigs.k8s.io/kustomize/api
#     v0.21.3) as a shared library with a C entry point, which this script calls
#     directly (the wheel's Python wrapper wants Python 3.14). Linux x86_64 only;
#     elsewhere a `kustomize` or `kubectl` on PATH renders instead.
# Where a tool cannot be installed: under CI=true the check fails, otherwise that
# step is skipped with a loud note.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${URNA_MANIFESTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/urna-manifests}
k8s_versions=${K8S_VERSIONS:-1.32.0 1.37.0}

kubernetes_validate=kubernetes-validate==1.37.0
check_jsonschema=check-jsonschema==0.39.0
pykustomize=pykustomize==0.1.4
pykustomize_wheel=pykustomize-0.1.4-py3-none-any.whl
pykustomize_sha256=f8da6be12fb35b56158d2f9043a67d39c1ce84eae9c8f344c7ed934709192467
pykustomize_lib=pykustomize/_lib/linux-amd64/libpykustomize.so

log() { echo "check-manifests: $*"; }

skipped=0
unavailable() {
  if [ "${CI:-}" = true ]; then
    log "FAILED: $* (CI=true: every tool must be installable)"
    exit 1
  fi
  log "!!! SKIPPED: $*"
  skipped=$((skipped + 1))
}

# The virtualenv with the validators, made once; a changed pin makes a new one.
venv=$cache/venv
venv_ready() {
  [ -x "$venv/bin/python" ] &&
    [ "$(cat "$venv/pins" 2>/dev/null)" = "$kubernetes_validate $check_jsonschema" ]
}
install_venv() {
  log "installing $kubernetes_validate $check_jsonschema into $venv (once)"
  rm -rf "$venv"
  python3 -m venv "$venv" &&
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "$kubernetes_validate" "$check_jsonschema" &&
    echo "$kubernetes_validate $check_jsonschema" >"$venv/pins"
}

# kustomize's library out of the pykustomize wheel, checked against its digest.
lib=$cache/${pykustomize_wheel%.whl}/libpykustomize.so
install_kustomize_lib() {
  log "installing kustomize from $pykustomize into $cache (once)"
  local work
  work=$(mktemp -d)
  # The wheel declares Python >= 3.14 for its wrapper; only the library is used.
  if python3 -m pip download --quiet --disable-pip-version-check --no-deps \
      --only-binary=:all: --python-version 3.14 --dest "$work" "$pykustomize" &&
    echo "$pykustomize_sha256  $work/$pykustomize_wheel" | sha256sum --check --quiet &&
    python3 -m zipfile -e "$work/$pykustomize_wheel" "$work/wheel" &&
    mkdir -p "$(dirname "$lib")" &&
    cp "$work/wheel/$pykustomize_lib" "$lib"; then
    rm -rf "$work"
  else
    rm -rf "$work"
    return 1
  fi
}

mkdir -p "$cache"
validators=yes
venv_ready || install_venv || { validators=no; unavailable "kubernetes-validate and check-jsonschema could not be installed from PyPI"; }

# How to render: kustomize's library on Linux x86_64 (the only platform the wheel
# has it for), a kustomize or kubectl on PATH elsewhere.
kustomize=
if [ "$(uname -sm)" = "Linux x86_64" ]; then
  if [ -s "$lib" ] || install_kustomize_lib; then
    kustomize=lib:$lib
  else
    unavailable "kustomize: $pykustomize could not be installed from PyPI"
  fi
elif command -v kustomize >/dev/null 2>&1; then
  kustomize="exec:kustomize build"
elif command -v kubectl >/dev/null 2>&1; then
  kustomize="exec:kubectl kustomize"
else
  unavailable "kustomize: the pykustomize wheel has no library for $(uname -sm), and no kustomize or kubectl is on PATH"
fi
[ -z "$kustomize" ] || log "rendering with ${kustomize#*:}"

failed=0
# Steps 1, 2, 3 and 5, in the virtualenv's Python (or, without it, the machine's,
# for steps 1 and 5 where it has PyYAML).
python=$venv/bin/python
if [ "$validators" != yes ]; then
  python=python3
  if ! python3 -c 'import yaml' 2>/dev/null; then
    python=
    unavailable "rendering and the urna.yaml checks (no PyYAML without the virtualenv)"
  fi
fi
[ -z "$python" ] || "$python" - "$root" "$kustomize" "$validators" "$k8s_versions" <<'PY' || failed=1
import ctypes
import ipaddress
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

root, kustomize, validators, k8s_versions = sys.argv[1:5]
root = Path(root)
validators = validators == "yes"
if validators:
    import kubernetes_validate

passed = failed = 0


def ok(what):
    global passed
    passed += 1
    print(f"check-manifests: ok      {what}")


def fail(what, why):
    global failed
    failed += 1
    print(f"check-manifests: FAILED  {what}: {why}")


# ---- 1. kustomize -------------------------------------------------------------

def render(path):
    kind, _, how = kustomize.partition(":")
    if kind == "exec":
        done = subprocess.run(shlex.split(how) + [str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip())
        return done.stdout
    library = ctypes.CDLL(how)
    library.pykustomize_build.argtypes = [
        ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    library.pykustomize_last_error.restype = ctypes.c_void_p
    library.pykustomize_free.argtypes = [ctypes.c_void_p]
    # kustomize build's defaults: files only from inside the kustomization's root,
    # no plugins, no Helm.
    options = json.dumps({
        "load_restrictions": 0, "reorder": "unspecified", "add_managedby_label": False,
        "enable_plugins": False, "enable_helm": False, "helm_command": ""}).encode()
    result = ctypes.c_void_p()
    if library.pykustomize_build(str(path).encode(), options, ctypes.byref(result)) != 0:
        raise RuntimeError(ctypes.string_at(library.pykustomize_last_error()).decode())
    try:
        return ctypes.string_at(result.value).decode()
    finally:
        library.pykustomize_free(result)


builds = {}
if kustomize:
    for name in ["base", "overlays/small", "overlays/national"]:
        try:
            builds[name] = [d for d in yaml.safe_load_all(render(root / "k8s" / name)) if d]
            ok(f"kustomize build k8s/{name} ({len(builds[name])} objects)")
        except Exception as e:
            fail(f"kustomize build k8s/{name}", e)

# ---- 2. Kubernetes schemas ----------------------------------------------------

if validators:
    for name, objects in builds.items():
        for version in k8s_versions.split():
            errors = []
            for o in objects:
                where = f"{o.get('kind')}/{o.get('metadata', {}).get('name')}"
                try:
                    kubernetes_validate.validate(o, version, strict=True)
                except kubernetes_validate.SchemaNotFoundError:
                    errors.append(f"{where}: no schema for {o.get('apiVersion')} {o.get('kind')}")
                except kubernetes_validate.ValidationError as e:
                    path = "/".join(str(p) for p in e.path)
                    errors.append(f"{where}: {path}: {e.message}")
            if errors:
                fail(f"k8s/{name} against Kubernetes {version}", "\n  " + "\n  ".join(errors))
            else:
                ok(f"k8s/{name} against Kubernetes {version} (strict)")

# ---- 3. compose-spec ----------------------------------------------------------

if validators:
    compose = root / "deploy" / "compose.yaml"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "check-jsonschema"),
         "--builtin-schema", "vendor.compose-spec", str(compose)],
        capture_output=True, text=True)
    if done.returncode == 0:
        ok("deploy/compose.yaml against the compose-spec schema")
    else:
        fail("deploy/compose.yaml against the compose-spec schema",
             (done.stdout + done.stderr).strip())

# ---- 5. urna.yaml -------------------------------------------------------------

# urna's configuration format: crates/urna-cli/src/server/config.rs (Config,
# StoreConfig, RedisSettings, TlsFiles, Listen, LoginLimits, VotingCodes, Telemetry), all
# deny_unknown_fields. None: a scalar.
FORMAT = {
    "data_dir": None,
    "store": {"backend": None, "url": None, "pool": None},
    "redis": {"url": None, "ttl_secs": None, "timeout_ms": None, "prefix": None},
    "session_key_file": None,
    "public_name": None,
    "tls": {"cert": None, "key": None},
    "admin_token_file": None,
    "rsa_bits": None,
    "listen": dict.fromkeys(
        ["auth", "issuance", "casting", "board", "admin", "tally", "http", "ops"]),
    "login_limits": dict.fromkeys(
        ["voter_failures", "voter_window_secs", "address_attempts", "address_window_secs"]),
    "voting_codes": dict.fromkeys(["memory_kib", "iterations", "lanes"]),
    "telemetry": dict.fromkeys(
        ["otlp_endpoint", "service_name", "export_interval_secs", "trace_sample_ratio"]),
}
# The listeners each role binds, besides ops (crates/urna-cli/src/server.rs).
ROLE_LISTENERS = {
    "auth": {"auth"},
    "issuance": {"issuance"},
    "casting": {"casting", "board", "admin", "tally", "http"},
}
ROLE_LISTENERS["all"] = set().union(*ROLE_LISTENERS.values())


def key_paths(tree, prefix=""):
    paths = set()
    for key, sub in tree.items():
        paths.add(prefix + key)
        if isinstance(sub, dict):
            paths |= key_paths(sub, prefix + key + ".")
    return paths


def documented_format():
    """The YAML example at the top of config.rs, the format's documentation."""
    text, inside = [], False
    for line in (root / "crates/urna-cli/src/server/config.rs").read_text().splitlines():
        if not line.startswith("//!"):
            if inside:
                break
            continue
        body = line[4:] if line.startswith("//! ") else line[3:]
        if body.strip() == "```yaml":
            inside = True
        elif inside and body.strip() == "```":
            break
        elif inside:
            text.append(body)
    return yaml.safe_load("\n".join(text)) or {}


class UniqueKeys(yaml.SafeLoader):
    """Refuses a key twice in one mapping, as urna's parser does."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def socket_port(value):
    host, _, port = str(value).rpartition(":")
    ipaddress.ip_address(host.strip("[]"))
    port = int(port)
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port}")
    return host.strip("[]"), port


def check_config(text):
    """The configuration's problems, as `urna serve` would find them before binding
    a port, plus what these deployments require: TLS (never --insecure-plaintext)
    and an admin token (every role)."""
    problems = []
    try:
        config = yaml.load(text, Loader=UniqueKeys) or {}
    except yaml.YAMLError as e:
        return None, [f"not YAML: {e}"]

    def walk(tree, format_, prefix):
        for key, value in tree.items():
            name = prefix + str(key)
            if key not in format_:
                problems.append(f"unknown key {name}")
            elif isinstance(format_[key], dict):
                if isinstance(value, dict):
                    walk(value, format_[key], name + ".")
                else:
                    problems.append(f"{name} must be a mapping")
            elif isinstance(value, (dict, list)):
                problems.append(f"{name} must be a scalar")

    walk(config, FORMAT, "")
    if problems:
        return config, problems

    def number(path, low, high):
        section, _, key = path.rpartition(".")
        value = (config.get(section) or {}).get(key) if section else config.get(key)
        if value is not None and (type(value) is not int or not low <= value <= high):
            problems.append(f"{path} must be a whole number in {low}..={high}")

    store = config.get("store") or {}
    backend = store.get("backend", "embedded")
    if backend not in ("embedded", "postgres"):
        problems.append(f"store.backend {backend!r} (embedded | postgres)")
    if backend == "embedded":
        if "url" in store:
            problems.append("store.url is for backend postgres")
        if "data_dir" not in config:
            problems.append("data_dir is required for the embedded store")
    if backend == "postgres" and not str(store.get("url", "")).strip():
        problems.append("store: backend postgres needs a url")
    number("store.pool", 1, 1000)
    redis = config.get("redis")
    if redis is not None:
        if not str(redis.get("url", "")).startswith(("redis://", "rediss://")):
            problems.append("redis.url must start with redis:// or rediss://")
        number("redis.ttl_secs", 1, 2**64 - 1)
        number("redis.timeout_ms", 1, 2**64 - 1)
        if redis.get("prefix") == "":
            problems.append("redis.prefix must not be empty")
    if "session_key_file" not in config and (backend == "postgres" or redis is not None):
        problems.append("session_key_file is required with backend postgres or redis")
    number("rsa_bits", 2048, 4096)
    for key in FORMAT["login_limits"]:
        number(f"login_limits.{key}", 1, 2**32 - 1)
    if not re.fullmatch(r"[A-Za-z0-9.-]+", str(config.get("public_name", "urna.local"))):
        problems.append("public_name must be a host name")
    tls = config.get("tls")
    if not tls or not {"cert", "key"} <= set(tls):
        problems.append("tls.cert and tls.key are required (no --insecure-plaintext here)")
    if "admin_token_file" not in config:
        problems.append("admin_token_file is required")
    for name, value in (config.get("listen") or {}).items():
        try:
            socket_port(value)
        except ValueError as e:
            problems.append(f"listen.{name} {value!r} is not an address:port ({e})")
    return config, problems


def check_format_list():
    documented = key_paths(documented_format())
    listed = key_paths(FORMAT)
    if documented != listed:
        fail("the key list of scripts/check-manifests.sh",
             f"config.rs documents {sorted(documented - listed)} more and "
             f"{sorted(listed - documented)} fewer keys: update FORMAT")
    else:
        ok(f"the key list matches config.rs's documented format ({len(listed)} keys)")


def files_named(config):
    names = [config.get("session_key_file"), config.get("admin_token_file")]
    names += list((config.get("tls") or {}).values())
    return [n for n in names if n]


def check_deployment(deployment, config_maps):
    """A tier's urna.yaml against the Deployment that runs it."""
    spec = deployment["spec"]["template"]["spec"]
    container = next(c for c in spec["containers"] if c["name"] == "urna")
    args = container.get("args", [])
    role = args[1] if len(args) > 1 and args[0] == "serve" else None
    if role not in ROLE_LISTENERS or "--insecure-plaintext" in args:
        return [f"args {args}: expected serve <role> --config FILE, with TLS"]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    template = next((v["configMap"]["name"] for v in volumes.values()
                     if "configMap" in v and v["configMap"]["name"] in config_maps
                     and "urna.yaml" in config_maps[v["configMap"]["name"]]), None)
    if template is None:
        return ["no ConfigMap with a urna.yaml among the pod's volumes"]
    config, problems = check_config(config_maps[template]["urna.yaml"])
    if problems:
        return [f"ConfigMap {template}: {p}" for p in problems]
    ports = {p["containerPort"] for p in container.get("ports", [])}
    listen = config.get("listen") or {}
    for name in sorted(ROLE_LISTENERS[role] | {"ops"}):
        if name not in listen:
            problems.append(f"listen.{name} is not set: it defaults to loopback")
            continue
        host, port = socket_port(listen[name])
        if ipaddress.ip_address(host).is_loopback:
            problems.append(f"listen.{name} {listen[name]} is loopback: no probe or peer reaches it")
        if port not in ports:
            problems.append(f"listen.{name} port {port} is not a containerPort {sorted(ports)}")
    ops = socket_port(listen.get("ops", "127.0.0.1:7490"))[1]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        handler = container.get(probe) or {}
        port = (handler.get("grpc") or handler.get("httpGet") or {}).get("port")
        if port != ops:
            problems.append(f"{probe} port {port} is not listen.ops {ops}")
    mounts = [m["mountPath"].rstrip("/") + "/" for m in container.get("volumeMounts", [])]
    config_file = args[args.index("--config") + 1] if "--config" in args else ""
    for path in files_named(config) + [config_file]:
        if not any(path.startswith(m) for m in mounts):
            problems.append(f"{path} is on no volume mount of the container")
    return problems


def pod_specs(objects):
    """(kind/name, pod template) of every workload."""
    for o in objects:
        if o["kind"] == "Deployment":
            yield f"Deployment/{o['metadata']['name']}", o["spec"]["template"]
        elif o["kind"] == "CronJob":
            yield f"CronJob/{o['metadata']['name']}", o["spec"]["jobTemplate"]["spec"]["template"]


def check_references(objects):
    """What the schemas cannot see: names that must resolve within the build. Secrets
    are the operator's (k8s/README.md) and not in it."""
    problems = []
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    pods = list(pod_specs(objects))

    def selected(selector):
        return [(w, t) for w, t in pods
                if selector and selector.items() <= t["metadata"].get("labels", {}).items()]

    for workload, template in pods:
        spec = template["spec"]
        account = spec.get("serviceAccountName", "default")
        if account != "default" and ("ServiceAccount", account) not in names:
            problems.append(f"{workload}: no ServiceAccount {account}")
        for volume in spec.get("volumes", []):
            if "configMap" in volume and ("ConfigMap", volume["configMap"]["name"]) not in names:
                problems.append(f"{workload}: no ConfigMap {volume['configMap']['name']}")
    for o in objects:
        what = f"{o['kind']}/{o['metadata']['name']}"
        if o["kind"] == "Service" and o["spec"].get("type") != "ExternalName":
            targets = selected(o["spec"].get("selector"))
            if not targets:
                problems.append(f"{what}: its selector matches no pod")
            for port in o["spec"].get("ports", []):
                target = port.get("targetPort", port["port"])
                for workload, template in targets:
                    exposed = [(p.get("name"), p["containerPort"])
                               for c in template["spec"]["containers"] for p in c.get("ports", [])]
                    if not any(target in pair for pair in exposed):
                        problems.append(f"{what}: {workload} has no port {target}")
        elif o["kind"] == "HorizontalPodAutoscaler":
            ref = o["spec"]["scaleTargetRef"]
            if (ref["kind"], ref["name"]) not in names:
                problems.append(f"{what}: no {ref['kind']}/{ref['name']} to scale")
        elif o["kind"] == "PodDisruptionBudget":
            if not selected(o["spec"]["selector"].get("matchLabels")):
                problems.append(f"{what}: its selector matches no pod")
        elif o["kind"] == "RoleBinding":
            if ("Role", o["roleRef"]["name"]) not in names:
                problems.append(f"{what}: no Role {o['roleRef']['name']}")
    return problems


for name, objects in builds.items():
    problems = check_references(objects)
    if problems:
        fail(f"k8s/{name}: references", "\n  " + "\n  ".join(problems))
    else:
        ok(f"k8s/{name}: every reference resolves (Services, HPAs, PDBs, volumes, accounts)")
    config_maps = {o["metadata"]["name"]: o.get("data", {})
                   for o in objects if o["kind"] == "ConfigMap"}
    for o in objects:
        if o["kind"] != "Deployment":
            continue
        what = f"k8s/{name}: Deployment/{o['metadata']['name']} and its urna.yaml"
        problems = check_deployment(o, config_maps)
        if problems:
            fail(what, "\n  " + "\n  ".join(problems))
        else:
            ok(what)

check_format_list()

for relative in ["deploy/urna.yaml", "deploy/compose/urna.yaml"]:
    config, problems = check_config((root / relative).read_text())
    if relative == "deploy/urna.yaml" and not problems:
        # The single machine reads its secrets as systemd credentials.
        unit = (root / "deploy/systemd/urna.service").read_text()
        loaded = set(re.findall(r"^LoadCredential=([^:\s]+):", unit, re.M))
        for path in files_named(config):
            credential = re.fullmatch(r"/run/credentials/urna\.service/(.+)", path)
            if not credential or credential.group(1) not in loaded:
                problems.append(f"{path} is no LoadCredential= of urna.service")
        if str(config.get("data_dir")) != "/var/lib/urna" or "StateDirectory=urna" not in unit:
            problems.append("data_dir must be urna.service's StateDirectory, /var/lib/urna")
    if problems:
        fail(relative, "\n  " + "\n  ".join(problems))
    else:
        ok(f"{relative} (keys and values)")

print(f"check-manifests: python checks: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY

# Step 4: systemd. Units are checked from a scratch copy whose ExecStart names a
# stand-in for /usr/local/bin/urna (verify requires the binary to exist); any output
# is a finding, since verify only warns about an unknown key or a bad value.
units=$root/deploy/systemd
if command -v systemd-analyze >/dev/null 2>&1; then
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  printf '#!/bin/sh\n' >"$scratch/urna"
  chmod +x "$scratch/urna"
  for unit in "$units"/*.service; do
    sed "s|/usr/local/bin/urna|$scratch/urna|g" "$unit" >"$scratch/$(basename "$unit")"
  done
  for unit in urna.service urna-trustee@ceremony.service urna-trustee@decrypt.service; do
    if out=$(cd "$scratch" && systemd-analyze verify --man=no --recursive-errors=no "./$unit" 2>&1) &&
      [ -z "$out" ]; then
      log "ok      systemd-analyze verify $unit"
    else
      log "FAILED  systemd-analyze verify deploy/systemd/$unit:"
      echo "$out" | sed "s|$scratch|deploy/systemd|g"
      failed=1
    fi
  done
else
  log "!!! SKIPPED: systemd-analyze is not installed; the units in deploy/systemd are unchecked"
  skipped=$((skipped + 1))
fi
if command -v systemd-sysusers >/dev/null 2>&1; then
  sysroot=$(mktemp -d)
  mkdir -p "$sysroot/etc"
  if out=$(systemd-sysusers --dry-run --root="$sysroot" "$units/urna-trustee.sysusers.conf" 2>&1); then
    log "ok      systemd-sysusers --dry-run deploy/systemd/urna-trustee.sysusers.conf"
  else
    log "FAILED  systemd-sysusers deploy/systemd/urna-trustee.sysusers.conf: $out"
    failed=1
  fi
  rm -rf "$sysroot"
else
  log "!!! SKIPPED: systemd-sysusers is not installed; deploy/systemd/urna-trustee.sysusers.conf is unchecked"
  skipped=$((skipped + 1))
fi

# The shell scripts the manifests run (busybox sh, curl's image) and compose's helper.
for script in k8s/base/render-config.sh k8s/components/prescale/patch-min-replicas.sh; do
  sh -n "$root/$script" || { log "FAILED  sh -n $script"; failed=1; }
done
bash -n "$root/deploy/compose-secrets.sh" || { log "FAILED  bash -n deploy/compose-secrets.sh"; failed=1; }

if [ "$failed" != 0 ]; then
  log "FAILED"
  exit 1
fi
if [ "$skipped" != 0 ]; then
  log "passed, but $skipped SKIPPED (see the !!! lines above)"
else
  log "all checks passed"
fi
