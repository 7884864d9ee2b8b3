using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlNet.Rnn.Tests;

/// <summary>Column values as exact text (floats by their bits), so two scorings compare bit for bit.</summary>
public static class Fingerprint
{
    /// <summary>One string per row of column <paramref name="name"/>.</summary>
    public static string[] Of(IDataView data, string name)
    {
        var column = data.Schema[name];
        return column.Type switch
        {
            VectorDataViewType => data.GetColumn<float[]>(column).Select(v => string.Join(',', v.Select(Bits))).ToArray(),
            NumberDataViewType when column.Type == NumberDataViewType.Single => data.GetColumn<float>(column).Select(Bits).ToArray(),
            BooleanDataViewType => data.GetColumn<bool>(column).Select(v => v.ToString()).ToArray(),
            KeyDataViewType => data.GetColumn<uint>(column).Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray(),
            _ => data.GetColumn<string>(column).ToArray(),
        };
    }

    /// <summary>The bits of a float, in hex.</summary>
    public static string Bits(float value) => BitConverter.SingleToInt32Bits(value).ToString("X8", CultureInfo.InvariantCulture);
}
