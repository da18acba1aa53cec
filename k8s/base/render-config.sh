#!/bin/sh
# The init container of every urna pod: writes /run/urna/urna.yaml from the tier's
# ConfigMap (/etc/urna-render/template/urna.yaml) with the passwords of the
# urna-datastores Secret (/etc/urna-render/datastores) in place of
# __POSTGRES_PASSWORD__ and __REDIS_PASSWORD__. urna's configuration takes those
# passwords only inside the store and Redis URLs, and a ConfigMap must not hold
# secrets; the rendered file lives in a memory-backed emptyDir of this pod alone.
#
# The passwords must be hex digits (`openssl rand -hex 32`): nothing in them then
# needs quoting in YAML, in a libpq string or in a URL.
set -eu
umask 077
config=$(cat /etc/urna-render/template/urna.yaml)
for pair in postgres:POSTGRES redis:REDIS; do
  name=${pair%%:*}
  placeholder=__${pair#*:}_PASSWORD__
  case $config in
    *"$placeholder"*) ;;
    *) continue ;;
  esac
  password=$(cat "/etc/urna-render/datastores/$name-password")
  case $password in
    '' | *[!0-9A-Fa-f]*)
      echo "render-config: $name-password in Secret urna-datastores must be hex digits" >&2
      exit 1
      ;;
  esac
  config=$(printf '%s\n' "$config" | sed "s/$placeholder/$password/g")
done
printf '%s\n' "$config" >/run/urna/urna.yaml
echo "render-config: /run/urna/urna.yaml written"
