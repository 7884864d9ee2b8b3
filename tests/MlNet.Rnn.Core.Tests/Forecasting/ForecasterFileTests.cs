using System.Buffers.Binary;
using System.Text;
using MlNet.Rnn.Core.Forecasting;
using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Core.Tests.Forecasting;

/// <summary>
/// A forecaster's file on disk and the names its refusals use: <c>Save(path)</c> writes a file <c>Load(path)</c> reads back
/// into the same forecaster; a file another tool wrote (its format is not ours) is refused from a path as from a stream,
/// naming the path; a stream read without a source name is called "The model file"; and a file with the forecaster's
/// metadata but no model configuration is refused saying so.
/// </summary>
public sealed class ForecasterFileTests
{
    private const int W = 3, HZ = 2;

    private static Lazy<(RecurrentForecaster Forecaster, float[] Series, float[] Exogenous)> s_tiny => ForecasterContractTests.TinyForecaster;

    private static byte[] Saved(RecurrentForecaster forecaster)
    {
        using var stream = new MemoryStream();
        forecaster.Save(stream);
        return stream.ToArray();
    }

    private static string TemporaryPath() => Path.Combine(Path.GetTempPath(), $"forecaster-{Guid.NewGuid():N}.safetensors");

    [Fact]
    public void SaveToAPath_WritesAFile_ThatLoadFromThePathReadsBackAsTheSameForecaster()
    {
        var (forecaster, series, exogenous) = s_tiny.Value;
        string path = TemporaryPath();
        try
        {
            forecaster.Save(path);
            Assert.Equal(Saved(forecaster), File.ReadAllBytes(path));
            var loaded = RecurrentForecaster.Load(path);
            Assert.Equal(forecaster.Model.Parameters.Values.ToArray(), loaded.Model.Parameters.Values.ToArray());
            Assert.Equal(forecaster.LowerOffsets, loaded.LowerOffsets);
            Assert.Equal(forecaster.UpperOffsets, loaded.UpperOffsets);
            Assert.Equal(series[^W..], loaded.CreateEngine().Window);
            var expected = forecaster.Forecast(series, exogenous);
            var actual = loaded.Forecast(series, exogenous);
            Assert.Equal(expected.Values, actual.Values);
            Assert.Equal(expected.LowerBound, actual.LowerBound);
            Assert.Equal(expected.UpperBound, actual.UpperBound);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AFileOfAnotherFormat_IsRefusedFromAPathAndFromAStream_NamingIt()
    {
        // The forecaster's own file under another format name (same length, so the offsets hold), without our metadata checksum.
        byte[] file = Saved(s_tiny.Value.Forecaster);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        string header = Encoding.UTF8.GetString(file, 8, headerLength);
        string foreign = header.Replace("\"MlNet.Rnn\"", "\"MlNet.Rnx\"", StringComparison.Ordinal)
            .Replace($"\"{ModelFile.MetadataChecksumKey}\"", $"\"{ModelFile.MetadataChecksumKey[..^1]}x\"", StringComparison.Ordinal);
        Assert.NotEqual(header, foreign);
        Encoding.UTF8.GetBytes(foreign).CopyTo(file, 8);
        // Without the format requirement it reads, and holds everything a forecaster needs.
        Assert.True(ModelFile.Read(new MemoryStream(file)).Metadata.ContainsKey("forecaster"));

        const string Why = " is not an MlNet.Rnn model file: its __metadata__ \"format\" is 'MlNet.Rnx', expected 'MlNet.Rnn'.";
        Assert.Equal("f.safetensors" + Why, Assert.Throws<InvalidDataException>(() => RecurrentForecaster.Load(new MemoryStream(file), "f.safetensors")).Message);
        string path = TemporaryPath();
        try
        {
            File.WriteAllBytes(path, file);
            Assert.Equal(path + Why, Assert.Throws<InvalidDataException>(() => RecurrentForecaster.Load(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AStreamReadWithoutASourceName_IsCalledTheModelFile()
    {
        using var stream = new MemoryStream();
        ModelFile.Write(stream, new Dictionary<string, string>(), []);
        stream.Position = 0;
        Assert.Equal("The model file has no 'forecaster' metadata; it was not written by RecurrentForecaster.Save.",
            Assert.Throws<InvalidDataException>(() => RecurrentForecaster.Load(stream)).Message);
    }

    [Fact]
    public void AForecasterHeaderWithoutAModelConfiguration_IsRefusedSayingSo()
    {
        string header = ModelFile.Read(new MemoryStream(Saved(s_tiny.Value.Forecaster)), requireModelFormat: true).Metadata["forecaster"];
        using var stream = new MemoryStream();
        ModelFile.Write(stream, new Dictionary<string, string> { ["forecaster"] = header }, []);
        stream.Position = 0;
        Assert.Equal("f.safetensors has no model configuration.",
            Assert.Throws<InvalidDataException>(() => RecurrentForecaster.Load(stream, "f.safetensors")).Message);
    }
}
