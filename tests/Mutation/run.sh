#!/usr/bin/env bash
# Mutation campaign with Stryker.NET (the dotnet-stryker tool pinned in dotnet-tools.json): one Stryker run per folder of
# src/MlNet.Rnn.Core and src/MlNet.Rnn, each against the tests that folder's code is meant to answer to (folders.tsv), then
# the score by folder of the reports on this machine (Summarize.cs) into tests/Mutation/reports/results.md; the committed
# tests/Mutation/results.md keeps the last run of every folder and takes a new run's rows by hand (TESTING.md). Not part
# of CI: a full campaign takes hours on 2 cores.
#
#   tests/Mutation/run.sh                     every folder
#   tests/Mutation/run.sh Cells Layers        only these folders (of either project)
#   tests/Mutation/run.sh MlNet.Rnn.Core/Data only this project's folder
#   tests/Mutation/run.sh MlNet.Rnn.Core/SequenceToSequence/PairBatch.cs
#                                             only this file, against its folder's tests
#   tests/Mutation/run.sh MlNet.Rnn.Core/Training/Optimizers
#                                             only this subfolder, against its folder's tests
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
# Stryker compiles every mutant of the project into one assembly and switches each on at run time; the mutants of files
# outside --mutate are compiled in too, only marked ignored, so the kernels' inner loops ran a switch per operation under
# every folder's tests (capturing the coverage of MlNet.Rnn.Core/Forecasting's tests took over 10 minutes; 18 seconds
# without them). A mutant disabled by a comment is never placed, so each folder runs in a scratch copy of the working
# tree (uncommitted changes included) whose other source files of the project start with "// Stryker disable all".
# Stryker builds and writes only in that copy: the repository can be built and tested while the campaign runs.
# Reports: tests/Mutation/reports/<Project>/<Folder>/{folder,<File>}/.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mlnet-rnn-mutation.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' file; do
    [[ -e "$file" ]] && cp --parents -- "$file" "$scratch/"
done
cd "$scratch"
dotnet tool restore >/dev/null
# Stryker's analysis builds the projects without their project references; build once so the publicizer tool is current.
dotnet build MlNet.Rnn.sln -c Release -v q -nologo >/dev/null
# A mutant that makes a loop endless times out, but Stryker can leave its test host spinning; reap hosts older than 10 min.
( while sleep 30; do
    ps -eo pid=,etimes=,args= | awk -v tests="$scratch/tests/" 'index($0, tests) && /runtimeconfig/ && $2 > 600 { print $1 }' | xargs -r kill 2>/dev/null
  done ) &
reaper=$!
trap 'kill $reaper 2>/dev/null; rm -rf "$scratch"' EXIT
# Targets: a folder of folders.tsv (every folder when none is named), or one file or subfolder of it (Project/Folder/File.cs,
# Project/Folder/Sub), which runs against its folder's tests and reports apart (reports/<Project>/<Folder>/<File or Sub>/):
# a run that is stopped measures nothing, so a folder too slow for one sitting is measured in pieces. Summarize.cs counts
# each file from the newest report that tested it.
targets=()
while IFS=$'\t' read -r project folder filter; do
    [[ -z "$project" || "$project" == \#* ]] && continue
    [[ $# -eq 0 ]] && targets+=("$project"$'\t'"$folder"$'\t'"$filter"$'\t'"$folder")
    for wanted in "$@"; do
        if [[ "$wanted" == "$folder" || "$wanted" == "$project/$folder" ]]; then
            targets+=("$project"$'\t'"$folder"$'\t'"$filter"$'\t'"$folder")
        elif [[ "$wanted" == "$project/$folder/"* ]]; then
            [[ ( "$wanted" == *.cs && -f "$root/src/$wanted" ) || -d "$root/src/$wanted" ]] \
                || { echo "no such file or folder: src/$wanted" >&2; exit 2; }
            targets+=("$project"$'\t'"$folder"$'\t'"$filter"$'\t'"${wanted#"$project/"}")
        fi
    done
done < "$root/tests/Mutation/folders.tsv"
[[ ${#targets[@]} -gt 0 ]] || { echo "no folder of tests/Mutation/folders.tsv matches: $*" >&2; exit 2; }
for target in "${targets[@]}"; do
    IFS=$'\t' read -r project folder filter mutate <<< "$target"
    case "$project" in
        MlNet.Rnn.Core) tests="$scratch/tests/MlNet.Rnn.Core.Tests/MlNet.Rnn.Core.Tests.csproj" ;;
        *) tests="$scratch/tests/MlNet.Rnn.Tests/MlNet.Rnn.Tests.csproj" ;;
    esac
    # Every source file of both projects as in the working tree, then the comment on those of this project not under test.
    for source in $(cd "$root" && git ls-files --cached --others --exclude-standard 'src/*.cs'); do
        cp -- "$root/$source" "$scratch/$source"
        [[ "$source" == "src/$project/"* && "$source" != "src/$project/$mutate" && "$source" != "src/$project/$mutate/"* ]] \
            && sed -i '1i // Stryker disable all : outside the code under test (tests/Mutation/run.sh)' "$scratch/$source"
    done
    if [[ "$mutate" == *.cs ]]; then glob="$mutate"; out="$root/tests/Mutation/reports/$project/$folder/$(basename "$mutate")"
    elif [[ "$mutate" != "$folder" ]]; then glob="$mutate/**/*.cs"; out="$root/tests/Mutation/reports/$project/$folder/$(basename "$mutate")"
    else glob="$folder/**/*.cs"; out="$root/tests/Mutation/reports/$project/$folder/folder"; fi
    rm -rf "$out" && mkdir -p "$out"
    echo "== $project/$mutate ($(date -u +%H:%M:%S) UTC)"
    start=$(date +%s)
    (cd "src/$project" && dotnet dotnet-stryker --skip-version-check \
        --project "$project.csproj" --test-project "$tests" --configuration Release \
        --mutate "$glob" --test-case-filter "$filter" \
        --concurrency "${CONCURRENCY:-2}" --config-file "${STRYKER_CONFIG:-$root/tests/Mutation/stryker-config.json}" --reporter Json --reporter Progress --output "$out" > "$out/stryker.log" 2>&1) \
        || { echo "   Stryker failed; see $out/stryker.log"; tail -5 "$out/stryker.log"; continue; }
    echo "   $(( ($(date +%s) - start) / 60 )) min; $(grep -Eo 'The final mutation score is [0-9.]+ ?%' "$out/stryker.log" | tail -1)"
done
cd "$root"
dotnet run tests/Mutation/Summarize.cs -- tests/Mutation/reports tests/Mutation/equivalent-mutants.tsv tests/Mutation/killed-since-run.tsv > tests/Mutation/reports/results.md
cat tests/Mutation/reports/results.md
