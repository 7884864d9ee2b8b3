// Summarize.cs — the mutation score by folder from Stryker's JSON reports, as markdown on standard output.
//
//     dotnet run tests/Mutation/Summarize.cs -- <reports folder> <equivalent-mutants.tsv> [<killed-since-run.tsv>]
//
// Reads every mutation-report.json under reports/<Project>/<Folder>/ (the mutation-testing-report schema Stryker writes)
// and counts each mutant of a file under <Folder> by status, each file from the newest report that tested it; a folder
// whose files are not all tested yet says how many are (run from the repository's root, which holds src/). A surviving
// mutant listed in equivalent-mutants.tsv (tab-separated: project, file, mutator, original code, replacement, reason;
// matched on everything but the reason, so line moves do not matter) counts as explained, not as a survivor. Each line
// answers for one mutant: two survivors with the same five fields (the same code on two lines) need two lines. Where the
// mutated code alone is ambiguous (`false`, `return;`), the original field may hold the mutant's whole source line instead
// (trimmed, spaces collapsed), which is matched first.
// Score = (killed + timeout) / (killed + timeout + survived + no coverage), survivors explained as equivalent left out.
// Every unexplained survivor is listed under the table.
// A survivor listed in killed-since-run.tsv (same 6 fields; the last names the test written after the run that kills it,
// seen failing against the hand-applied mutant, or says the code was removed) is counted apart, in a second score, until
// the folder's next run measures it.
using System.Globalization;
using System.Text;
using System.Text.Json;

if (args.Length is not (2 or 3))
{
    Console.Error.WriteLine("usage: dotnet run Summarize.cs -- <reports folder> <equivalent-mutants.tsv> [<killed-since-run.tsv>]");
    return 2;
}
string reports = args[0];
var explained = Ledger(args[1]);
Dictionary<string, int> since = args.Length == 3 ? Ledger(args[2]) : [];

var rows = new List<(string Project, string Folder, int Killed, int Timeout, int Survived, int NoCoverage, int Equivalent, int Other, int Since, List<string> Survivors)>();
foreach (string projectDirectory in Directory.GetDirectories(reports).Order(StringComparer.Ordinal))
    foreach (string folderDirectory in Directory.GetDirectories(projectDirectory).Order(StringComparer.Ordinal))
    {
        string project = Path.GetFileName(projectDirectory), folder = Path.GetFileName(folderDirectory);
        // A folder may have a report of its own and reports of single files (run.sh Project/Folder/File.cs): each file is
        // counted from the newest report that tested it (one with a mutant of the file not ignored).
        var newest = new Dictionary<string, (DateTime Written, JsonElement File)>(StringComparer.Ordinal);
        var documents = new List<JsonDocument>();
        var accounted = new HashSet<string>(StringComparer.Ordinal); // tested, or in a folder's own report with nothing to test
        foreach (string report in Directory.GetFiles(folderDirectory, "mutation-report.json", SearchOption.AllDirectories))
        {
            var document = JsonDocument.Parse(File.ReadAllBytes(report));
            documents.Add(document);
            DateTime written = File.GetLastWriteTimeUtc(report);
            bool folderReport = Path.GetRelativePath(folderDirectory, report).StartsWith("folder" + Path.DirectorySeparatorChar, StringComparison.Ordinal);
            foreach (var file in document.RootElement.GetProperty("files").EnumerateObject())
            {
                string path = file.Name.Replace('\\', '/');
                int at = path.IndexOf($"/{project}/", StringComparison.Ordinal);
                string relative = at >= 0 ? path[(at + project.Length + 2)..] : path;
                if (!relative.StartsWith(folder + "/", StringComparison.Ordinal)) continue;
                // In the run's scope: a folder's own report, or a file or subfolder run whose glob took the file (Stryker marks
                // the files outside it language "none"); a file of the scope with no mutant (an interface) is accounted too.
                if (folderReport || file.Value.GetProperty("language").GetString() != "none") accounted.Add(relative);
                if (!file.Value.GetProperty("mutants").EnumerateArray().Any(m => m.GetProperty("status").GetString() != "Ignored")) continue;
                accounted.Add(relative);
                if (!newest.TryGetValue(relative, out var known) || known.Written < written) newest[relative] = (written, file.Value);
            }
        }
        if (newest.Count == 0) continue;
        string sources = Path.Combine("src", project, folder);
        int files = Directory.Exists(sources) ? Directory.GetFiles(sources, "*.cs", SearchOption.AllDirectories).Length : 0;
        string label = accounted.Count < files ? $"{folder} ({accounted.Count} of {files} files)" : folder;
        int killed = 0, timeout = 0, survived = 0, noCoverage = 0, equivalent = 0, other = 0, killedSince = 0;
        var survivors = new List<string>();
        foreach (var (relative, (_, file)) in newest.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            string[] source = file.GetProperty("source").GetString()!.Split('\n');
            foreach (var mutant in file.GetProperty("mutants").EnumerateArray())
            {
                string status = mutant.GetProperty("status").GetString()!;
                switch (status)
                {
                    case "Killed": killed++; break;
                    case "Timeout": timeout++; break;
                    case "Survived" or "NoCoverage":
                        string mutator = mutant.GetProperty("mutatorName").GetString()!;
                        string replacement = OneLine(mutant.TryGetProperty("replacement", out var r) ? r.GetString() ?? "" : "");
                        string original = OneLine(Original(source, mutant.GetProperty("location")));
                        int line = mutant.GetProperty("location").GetProperty("start").GetProperty("line").GetInt32();
                        // A line written for the mutant's whole source line first, then one for the mutated code alone.
                        string key = Key(project, relative, mutator, original, replacement);
                        string lineKey = Key(project, relative, mutator, OneLine(source[line - 1]), replacement);
                        if (Take(explained, lineKey) || Take(explained, key)) { equivalent++; break; }
                        if (status == "Survived") survived++; else noCoverage++;
                        if (Take(since, lineKey) || Take(since, key)) { killedSince++; break; }
                        survivors.Add($"{project}\t{relative}\t{mutator}\t{original}\t{replacement}\t(line {line}, {status})");
                        break;
                    default: other++; break;
                }
            }
        }
        foreach (var document in documents) document.Dispose();
        rows.Add((project, label, killed, timeout, survived, noCoverage, equivalent, other, killedSince, survivors));
    }

var output = new StringBuilder();
output.AppendLine("| Project | Folder | Killed | Timeout | Survived | No coverage | Equivalent (explained) | Not run (compile error, ignored) | Score | Killed since the run | Score with them |");
output.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var row in rows)
{
    int detected = row.Killed + row.Timeout, total = detected + row.Survived + row.NoCoverage;
    output.AppendLine(CultureInfo.InvariantCulture,
        $"| {row.Project} | {row.Folder} | {row.Killed} | {row.Timeout} | {row.Survived} | {row.NoCoverage} | {row.Equivalent} | {row.Other} | " +
        $"{Percent(detected, total)} | {row.Since} | {Percent(detected + row.Since, total)} |");
}
var unexplained = rows.SelectMany(row => row.Survivors).ToList();
output.AppendLine();
output.AppendLine(CultureInfo.InvariantCulture, $"Unexplained survivors: {unexplained.Count} (project, file, mutator, original, replacement, where).");
if (unexplained.Count > 0)
{
    output.AppendLine();
    output.AppendLine("```");
    foreach (string survivor in unexplained) output.AppendLine(survivor);
    output.AppendLine("```");
}
Console.Write(output.ToString());
return 0;

static string Percent(int part, int total) => total == 0 ? "–" : (100.0 * part / total).ToString("F1", CultureInfo.InvariantCulture) + "%";

// How many lines of the ledger at path answer for each key: each line accounts for one mutant.
static Dictionary<string, int> Ledger(string path)
{
    var entries = new Dictionary<string, int>(StringComparer.Ordinal);
    if (!File.Exists(path)) return entries;
    foreach (string line in File.ReadLines(path))
    {
        if (line.Length == 0 || line.StartsWith('#')) continue;
        string[] parts = line.Split('\t');
        if (parts.Length != 6) throw new InvalidDataException($"{path}: a line needs 6 tab-separated fields: {line}");
        string key = Key(parts[0], parts[1], parts[2], parts[3], parts[4]);
        entries[key] = entries.GetValueOrDefault(key) + 1;
    }
    return entries;
}

// Uses up one of the ledger's lines for key; false when none is left.
static bool Take(Dictionary<string, int> ledger, string key)
{
    if (ledger.GetValueOrDefault(key) == 0) return false;
    ledger[key]--;
    return true;
}

static string Key(string project, string file, string mutator, string original, string replacement) =>
    string.Join('\u001f', project, file, mutator, original, replacement);

static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));

static string Original(string[] source, JsonElement location)
{
    var start = location.GetProperty("start");
    var end = location.GetProperty("end");
    int startLine = start.GetProperty("line").GetInt32() - 1, startColumn = start.GetProperty("column").GetInt32() - 1;
    int endLine = end.GetProperty("line").GetInt32() - 1, endColumn = end.GetProperty("column").GetInt32() - 1;
    if (startLine < 0 || endLine >= source.Length) return "";
    if (startLine == endLine) return Slice(source[startLine], startColumn, endColumn);
    var text = new StringBuilder(Slice(source[startLine], startColumn, source[startLine].Length));
    for (int l = startLine + 1; l < endLine; l++) text.Append(' ').Append(source[l]);
    text.Append(' ').Append(Slice(source[endLine], 0, endColumn));
    return text.ToString();
}

static string Slice(string line, int from, int to) =>
    line[Math.Clamp(from, 0, line.Length)..Math.Clamp(Math.Max(from, to), 0, line.Length)];
