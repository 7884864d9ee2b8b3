using System.Globalization;

namespace MlNet.Rnn.Examples;

/// <summary>
/// Reads the series statsmodels ships (fetched from Debian's python3-statsmodels by <c>examples/data/fetch.sh sunspots nile
/// elnino macrodata</c>) as one value per period, in time order.
/// </summary>
public static class StatsmodelsSeries
{
    /// <summary>Yearly sunspot numbers 1700–2008 (sunspots.csv: YEAR, SUNACTIVITY).</summary>
    public static (int[] Years, float[] Values, string File) Sunspots()
    {
        string file = DataCache.File("sunspots", "sunspots.csv");
        var rows = Rows(file);
        return ([.. rows.Select(r => (int)double.Parse(r[0], CultureInfo.InvariantCulture))], [.. rows.Select(r => Value(r[1]))], file);
    }

    /// <summary>Yearly flow of the Nile at Aswan, 1871–1970, 10⁸ m³ (nile.csv: year, volume).</summary>
    public static float[] Nile() => [.. Rows(DataCache.File("nile", "nile.csv")).Select(r => Value(r[1]))];

    /// <summary>Monthly sea-surface temperature of the El Niño region, 1950–2010, °C (elnino.csv: YEAR, JAN … DEC), month by month.</summary>
    public static float[] ElNino() => [.. Rows(DataCache.File("elnino", "elnino.csv")).SelectMany(r => r.Skip(1).Select(Value))];

    /// <summary>One column of the quarterly US macroeconomic data, 1959Q1–2009Q3 (macrodata.csv), e.g. "unemp" (unemployment rate, %).</summary>
    public static float[] Macro(string column)
    {
        string file = DataCache.File("macrodata", "macrodata.csv");
        string[] header = [.. System.IO.File.ReadLines(file).First().Split(',').Select(name => name.Trim('"'))];
        int index = Array.IndexOf(header, column);
        if (index < 0) throw new ArgumentException($"{file} has no column '{column}' (it has {string.Join(", ", header)}).", nameof(column));
        return [.. Rows(file).Select(r => Value(r[index]))];
    }

    private static string[][] Rows(string file) =>
        [.. System.IO.File.ReadLines(file).Skip(1).Where(line => line.Length > 0).Select(line => line.Split(','))];

    private static float Value(string text) => float.Parse(text.Trim('"'), CultureInfo.InvariantCulture);
}
