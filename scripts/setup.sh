#!/usr/bin/env bash
# Install what the build and the tests need, only when it is missing:
# Debian packages (as root, through apt-get) and the test-only npm packages
# pinned in package-lock.json (npm ci). Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  build-essential pkg-config clang libclang-rt-14-dev
  libcurl4-openssl-dev libssl-dev zlib1g-dev libsnappy-dev libzstd-dev
  liblz4-dev libutf8proc-dev libisal-dev libyajl-dev valgrind python3-yaml zip
)

missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
# Node.js comes with npm; the image may ship its own build of it, which
# Debian's separate npm package conflicts with, so ask for the commands.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run as root (or install them yourself): apt-get install ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The node suites use node:test's --test-concurrency, which came in 20.10;
# Debian 12's own nodejs is 18, so on such a machine say what to do.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
              process.exit(a > 20 || (a === 20 && b >= 10) ? 0 : 1)'; then
  echo "setup: Node.js $(node --version) is too old: the tests need 20.10 or later" \
    "(install it from nodejs.org or NodeSource, or use the image's own)" >&2
  exit 1
fi

# The versions are pinned in package-lock.json. `npm install` installs
# exactly those; `npm ci` would too, but it insists that the lock also list
# every other platform's optional DuckDB binding, which the registry reached
# from here does not serve. Runs only when the lockfile changed since the
# last install.
stamp=node_modules/.collator-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing test packages (npm, pinned by package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error
  git diff --quiet -- package-lock.json 2>/dev/null ||
    echo "setup: warning: npm changed package-lock.json" >&2
  cp package-lock.json "$stamp"
fi
