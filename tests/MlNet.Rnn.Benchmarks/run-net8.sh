#!/usr/bin/env bash
# MlNet.Rnn on .NET 10 beside .NET 8: the "Ours" benchmarks of every workload (S M L G R, 1 and 2 threads), default glibc
# settings, once in a .NET 10 process and once in a self-contained .NET 8 process (its runtime restored from NuGet), then
# the table of both written into BENCHMARKS.md between the runtimes markers. About 10 minutes on 2 cores; run it on an
# otherwise idle machine.
#   tests/MlNet.Rnn.Benchmarks/run-net8.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
for tfm in net10.0 net8.0; do
    dotnet build "$here/MlNet.Rnn.Benchmarks.csproj" -c Release -nologo -v q -p:BenchmarkTargetFramework=$tfm
    echo "== $tfm"
    env -u GLIBC_TUNABLES "$here/bin/Release/$tfm/linux-x64/MlNet.Rnn.Benchmarks" --results "$here/BenchmarkDotNet.Artifacts/runtimes/$tfm" --filter '*.Ours*'
done
"$here/bin/Release/net10.0/linux-x64/MlNet.Rnn.Benchmarks" --results "$here/BenchmarkDotNet.Artifacts/runtimes/net10.0" \
    --runtimes "$here/BenchmarkDotNet.Artifacts/runtimes/net8.0" --update "$root/BENCHMARKS.md"
