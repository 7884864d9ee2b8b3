#!/usr/bin/env bash
# Mutation campaign with Stryker.NET (the dotnet-stryker tool pinned in dotnet-tools.json): one Stryker run per folder of
# src/MlNet.Rnn.Core and src/MlNet.Rnn, each against the tests that folder's code is meant to answer to (folders.tsv), then
# the score by folder (Summarize.cs) into tests/Mutation/results.md. Not part of CI: a full campaign takes hours on 2 cores.
#
#   tests/Mutation/run.sh                     every folder
#   tests/Mutation/run.sh Cells Layers        only these folders (of either project)
#   tests/Mutation/run.sh MlNet.Rnn.Core/Data only this project's folder
#   CONCURRENCY=1 tests/Mutation/run.sh ...   one test runner at a time (default 2)
#   STRYKER_CONFIG=$PWD/tests/Mutation/stryker-config-isolated.json tests/Mutation/run.sh Training
#                                             one mutant per test run (see below)
#
# stryker-config.json gives each mutant's test run 20 s beyond Stryker's own allowance (1.5 × the tests' time), so a
# machine busy with something else does not turn slow runs into timeouts, which Stryker counts as killed.
# A mutated concatenation of interpolated strings cannot be passed to string.Create(provider, …) (its handler goes by
# ref), and Stryker answers the compile error by dropping every mutant of the enclosing method; each such message carries
# a "Stryker disable once String" comment so only its string mutants are skipped. Stryker's log says "Safe Mode" when a
# new one appears: grep the reports' stryker.log for it after a run.
# Stryker tests several mutants that share no test in one run; when one of them loops forever, every mutant of that run
# is reported as a timeout (counted as killed). A folder whose report shows many timeouts is measured again with
# stryker-config-isolated.json, one mutant per run.
#
# Stryker compiles every mutant of the project into one assembly and switches them on one at a time; it writes into the
# projects' bin/obj, so do not build the solution while it runs. Reports: tests/Mutation/reports/<Project>/<Folder>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet tool restore >/dev/null
# Stryker's analysis builds the projects without their project references; build once so the publicizer tool is current.
dotnet build MlNet.Rnn.sln -c Release -v q -nologo >/dev/null
# A mutant that makes a loop endless times out, but Stryker can leave its test host spinning; reap hosts older than 10 min.
( while sleep 30; do
    ps -eo pid=,etimes=,args= | awk -v tests="$root/tests/" 'index($0, tests) && /runtimeconfig/ && $2 > 600 { print $1 }' | xargs -r kill 2>/dev/null
  done ) &
reaper=$!
trap 'kill $reaper 2>/dev/null' EXIT
wanted=" $* "
while IFS=$'\t' read -r project folder filter; do
    [[ -z "$project" || "$project" == \#* ]] && continue
    [[ $# -gt 0 && "$wanted" != *" $folder "* && "$wanted" != *" $project/$folder "* ]] && continue
    case "$project" in
        MlNet.Rnn.Core) tests="$root/tests/MlNet.Rnn.Core.Tests/MlNet.Rnn.Core.Tests.csproj" ;;
        *) tests="$root/tests/MlNet.Rnn.Tests/MlNet.Rnn.Tests.csproj" ;;
    esac
    out="$root/tests/Mutation/reports/$project/$folder"
    rm -rf "$out" && mkdir -p "$out"
    echo "== $project/$folder ($(date -u +%H:%M:%S) UTC)"
    start=$(date +%s)
    (cd "src/$project" && dotnet dotnet-stryker --skip-version-check \
        --project "$project.csproj" --test-project "$tests" --configuration Release \
        --mutate "$folder/**/*.cs" --test-case-filter "$filter" \
        --concurrency "${CONCURRENCY:-2}" --config-file "${STRYKER_CONFIG:-$root/tests/Mutation/stryker-config.json}" --reporter Json --reporter Progress --output "$out" > "$out/stryker.log" 2>&1) \
        || { echo "   Stryker failed; see $out/stryker.log"; tail -5 "$out/stryker.log"; continue; }
    echo "   $(( ($(date +%s) - start) / 60 )) min; $(grep -Eo 'The final mutation score is [0-9.]+ ?%' "$out/stryker.log" | tail -1)"
done < tests/Mutation/folders.tsv
dotnet run tests/Mutation/Summarize.cs -- tests/Mutation/reports tests/Mutation/equivalent-mutants.tsv tests/Mutation/killed-since-run.tsv > tests/Mutation/results.md
cat tests/Mutation/results.md
