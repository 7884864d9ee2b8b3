namespace MlNet.Rnn.Examples;

/// <summary>
/// Where <c>examples/data/fetch.sh</c> puts the data sets: <c>$MLNET_RNN_DATA</c>, else <c>examples/data/cache</c> under the
/// folder holding MlNet.Rnn.sln (searched upwards from the program's folder).
/// </summary>
public static class DataCache
{
    /// <summary>The cache folder (it may not exist yet).</summary>
    public static string Root()
    {
        string? root = Environment.GetEnvironmentVariable("MLNET_RNN_DATA");
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); root is null && directory is not null; directory = directory.Parent)
            if (System.IO.File.Exists(Path.Combine(directory.FullName, "MlNet.Rnn.sln"))) root = Path.Combine(directory.FullName, "examples", "data", "cache");
        return root ?? "examples/data/cache";
    }

    /// <summary>A file of a fetched data set; throws <see cref="FileNotFoundException"/> naming the fetch command when it is absent.</summary>
    /// <param name="dataSet">The data set's name for fetch.sh, also its folder in the cache.</param>
    /// <param name="fileName">The file inside that folder.</param>
    public static string File(string dataSet, string fileName)
    {
        string path = Path.GetFullPath(Path.Combine(Root(), dataSet, fileName));
        if (!System.IO.File.Exists(path))
            throw new FileNotFoundException($"{path} is missing; fetch it first: examples/data/fetch.sh {dataSet}", path);
        return path;
    }
}
