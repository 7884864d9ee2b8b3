#!/usr/bin/env bash
# Packs MlNet.Rnn.Core and MlNet.Rnn into a local folder feed, then builds and runs the consumer app (a user's app that
# references the packages) against Microsoft.ML 5.0.1 and 6.0.0 on net10.0, and against 5.0.1 on a self-contained
# net8.0 build that runs on the .NET 8 runtime restored from NuGet, and an F# app (FSharp/) against 5.0.1 on net10.0.
# Exits non-zero if a pack, build or run fails.
#   tests/Consumer/run.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
suffix="ci.$(date -u +%Y%m%d%H%M%S)"   # a version no package cache holds yet
for project in MlNet.Rnn.Core MlNet.Rnn; do
    dotnet pack "$root/src/$project/$project.csproj" -c Release -o "$work/feed" -p:VersionSuffix="$suffix" -nologo -v q
done
ls "$work/feed"
run() { # target-framework Microsoft.ML-version [project]
    local project="${3:-$here/Consumer.csproj}" name
    name="$(basename "$project" .csproj)"
    name="${name%.fsproj}"
    echo "== $name on $1 with Microsoft.ML $2"
    dotnet build "$project" -c Release -nologo -v q -o "$work/out-$name-$1-$2" \
        -p:ConsumerTargetFramework="$1" -p:MicrosoftMLVersion="$2" -p:MlNetRnnVersion="0.1.0-$suffix" \
        -p:RestoreAdditionalProjectSources="$work/feed" -p:BaseIntermediateOutputPath="$work/obj-$name-$1-$2/"
    "$work/out-$name-$1-$2/$name"
}
run net10.0 5.0.1
run net10.0 6.0.0
run net8.0 5.0.1
run net8.0 6.0.0
run net10.0 5.0.1 "$here/FSharp/ConsumerFs.fsproj"
