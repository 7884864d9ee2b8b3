#!/usr/bin/env bash
# Runs the MlNet.Rnn vs TorchSharp benchmarks in two processes -- glibc's default malloc settings, then
# GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 (glibc reads it only at process
# start) -- then prints the markdown tables and writes them into BENCHMARKS.md between the generated-block markers.
#
#   tests/MlNet.Rnn.Benchmarks/run.sh                  # all workloads (S M L G R), about 15 minutes on 2 cores
#   tests/MlNet.Rnn.Benchmarks/run.sh S R              # some workloads (earlier rows of the others are kept)
#   tests/MlNet.Rnn.Benchmarks/run.sh S -- --iterationCount 15    # after --: more BenchmarkDotNet arguments
#
# Results: tests/MlNet.Rnn.Benchmarks/BenchmarkDotNet.Artifacts/{default,tunables}/results.csv (+ BenchmarkDotNet's
# own reports and logs there). Other processes running on the machine distort the numbers: run it on an idle machine.
# Each pass measures the FMA peak with 1 and 2 threads at its start and end (MachineCheck.cs); the summary marks the
# two-thread numbers of a pass whose two-thread peak fell below 1.8x the one-thread peak (BENCHMARKS.md, Rerun).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tunables="glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184"

workloads=()
extra=()
while [[ $# -gt 0 ]]; do
  if [[ "$1" == "--" ]]; then shift; extra=("$@"); break; fi
  workloads+=("$1"); shift
done
args=()
if [[ ${#workloads[@]} -gt 0 ]]; then args+=(--workloads "$(IFS=,; echo "${workloads[*]}")"); fi

dotnet build "$here/MlNet.Rnn.Benchmarks.csproj" -c Release -nologo -v q || exit 1
dll="$here/bin/Release/net10.0/linux-x64/MlNet.Rnn.Benchmarks.dll"

status=0
echo "== pass 1 of 2: default glibc malloc settings"
env -u GLIBC_TUNABLES dotnet "$dll" "${args[@]}" "${extra[@]}" || status=1
echo "== pass 2 of 2: GLIBC_TUNABLES=$tunables"
GLIBC_TUNABLES="$tunables" dotnet "$dll" "${args[@]}" "${extra[@]}" || status=1
echo "== summary (also written into $root/BENCHMARKS.md)"
env -u GLIBC_TUNABLES dotnet "$dll" --summarize --update "$root/BENCHMARKS.md" || status=1
exit $status
