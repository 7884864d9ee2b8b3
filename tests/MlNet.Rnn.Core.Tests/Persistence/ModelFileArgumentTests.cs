using MlNet.Rnn.Core.Models;
using MlNet.Rnn.Core.Parameters;
using MlNet.Rnn.Core.Persistence;

namespace MlNet.Rnn.Core.Tests.Persistence;

/// <summary>
/// ModelFile's own contract, apart from the bytes: every argument is checked first and refused by name (even when
/// another argument is wrong too), a bad tensor list or metadata is refused with a message saying which entry and why,
/// LoadInto refuses a parameter set that does not fit with every problem listed once, a failed write to a path leaves
/// no temporary file behind and reports the failure, a configuration that is not the model's options says so, and the
/// contents describe themselves (tensor text, the names a missing tensor could have been).
/// </summary>
public sealed class ModelFileArgumentTests
{
    private static readonly Dictionary<string, string> NoMetadata = [];

    private static ParameterSet TwoValues()
    {
        var parameters = new ParameterSet();
        parameters.Add("w", 2);
        return parameters;
    }

    /// <summary>A plain safetensors file of one F32 tensor <c>w</c>, read from a stream with no source name.</summary>
    private static ModelFileContents Contents(int[] shape, params float[] values)
    {
        string header = $$$"""{"w":{"dtype":"F32","shape":[{{{string.Join(",", shape)}}}],"data_offsets":[0,{{{4 * values.Length}}}]}}""";
        return ModelFile.Read(new MemoryStream(SafetensorsBytes.File(header, SafetensorsBytes.Floats(values))));
    }

    [Fact]
    public void NullStreams_AreRefusedByName_BeforeAnythingElse()
    {
        var parameters = TwoValues();
        Assert.Equal("stream", Assert.Throws<ArgumentNullException>(() => ModelFile.Write((Stream)null!, NoMetadata, [("x", [1], new float[1])])).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentNullException>(() => ModelFile.Save((Stream)null!, parameters, "{}")).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentNullException>(() => ModelFile.Read((Stream)null!)).ParamName);
    }

    [Fact]
    public void NullOrEmptyPaths_AreRefusedByName_BeforeTheOtherArguments()
    {
        // The other arguments are wrong too: the path is checked first.
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => ModelFile.Write((string)null!, null!, [])).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => ModelFile.Save((string)null!, null!, "{}")).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => ModelFile.Read((string)null!, skipPrefixes: [""])).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentException>(() => ModelFile.Read("", skipPrefixes: [""])).ParamName);
    }

    [Fact]
    public void NullParametersContentsConfigurationMetadataAndTensors_AreRefusedByName()
    {
        var contents = Contents([2], 1, 2);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => ModelFile.LoadInto(null!, contents)).ParamName);
        Assert.Equal("contents", Assert.Throws<ArgumentNullException>(() => ModelFile.LoadInto(TwoValues(), null!)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => ModelFile.Load("no such file.safetensors", null!)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => ModelFile.Save(new MemoryStream(), null!, "{}")).ParamName);
        Assert.Equal("configurationJson", Assert.Throws<ArgumentNullException>(() => ModelFile.Save(new MemoryStream(), TwoValues(), null!)).ParamName);
        Assert.Equal("metadata", Assert.Throws<ArgumentNullException>(() => ModelFile.Write(new MemoryStream(), null!, [("x", [1], new float[1])])).ParamName);
        Assert.Equal("tensors", Assert.Throws<ArgumentNullException>(() => ModelFile.Write(new MemoryStream(), NoMetadata, null!)).ParamName);
    }

    [Fact]
    public void AConfigurationThatIsNotJson_IsRefusedSayingWhatToPass()
    {
        var error = Assert.Throws<ArgumentException>(() => ModelFile.Save(new MemoryStream(), TwoValues(), "{not json"));
        Assert.Equal("configurationJson", error.ParamName);
        Assert.StartsWith("configurationJson is not valid JSON (", error.Message);
        Assert.EndsWith("); pass the model's options serialized as JSON. (Parameter 'configurationJson')", error.Message);
    }

    [Fact]
    public void NullMetadataValues_MissingShapes_AndShapesTooLargeForAnArray_AreRefusedSayingWhich()
    {
        var stream = new MemoryStream();
        var error = Assert.Throws<ArgumentException>(() => ModelFile.Write(stream, new Dictionary<string, string> { ["epoch"] = null! }, [("x", [1], new float[1])]));
        Assert.Equal("Metadata 'epoch' is null; metadata values are strings. (Parameter 'metadata')", error.Message);

        (string, int[], ReadOnlyMemory<float>)[] noShape = [("a", null!, new float[1])];
        error = Assert.Throws<ArgumentException>(() => ModelFile.Write(stream, NoMetadata, noShape));
        Assert.Equal("Tensor 'a' has no shape. (Parameter 'tensors')", error.Message);

        error = Assert.Throws<ArgumentException>(() => ModelFile.Write(stream, NoMetadata, [("a", [65536, 65536], ReadOnlyMemory<float>.Empty)]));
        Assert.Equal("Tensor 'a' has shape [65536, 65536], more elements than an array can hold. (Parameter 'tensors')", error.Message);

        // Exactly as many elements as an array can hold is a shape an array can have: what is wrong is the data.
        error = Assert.Throws<ArgumentException>(() => ModelFile.Write(stream, NoMetadata, [("a", [Array.MaxLength], ReadOnlyMemory<float>.Empty)]));
        Assert.Equal($"Tensor 'a' has shape [{Array.MaxLength}] = {Array.MaxLength} elements but 0 values. (Parameter 'tensors')", error.Message);
        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public void LoadInto_AnEmptyIgnorePrefix_IsRefusedSayingWhy()
    {
        var error = Assert.Throws<ArgumentException>(() => ModelFile.LoadInto(TwoValues(), Contents([2], 1, 2), ignorePrefixes: ["optimizer.", ""]));
        Assert.Equal("An ignore prefix is empty, which would ignore every tensor; give non-empty prefixes. (Parameter 'ignorePrefixes')", error.Message);
    }

    [Fact]
    public void LoadInto_ANonFiniteFirstValue_IsRefused_AndAWrongShapeIsReportedOnce()
    {
        var parameters = TwoValues();
        parameters.ValuesOf(parameters["w"]).Fill(7);

        var error = Assert.Throws<InvalidDataException>(() => ModelFile.LoadInto(parameters, Contents([2], float.NaN, 1)));
        Assert.Equal($"The model file does not fit the model; nothing was loaded:{Environment.NewLine}  w: value 0 is NaN; a model's parameters must be finite",
            error.Message);

        // The shape is wrong and a value is not finite: the shape is the problem, said once.
        error = Assert.Throws<InvalidDataException>(() => ModelFile.LoadInto(parameters, Contents([3], float.NaN, 1, 2)));
        Assert.Equal($"The model file does not fit the model; nothing was loaded:{Environment.NewLine}  w: file has [3], model expects [2]", error.Message);
        Assert.Equal([7f, 7f], SafetensorsBytes.Snapshot(parameters));
    }

    [Fact]
    public void AFailedWriteToAPath_IsReported_AndLeavesNoTemporaryFile()
    {
        using var folder = new SafetensorsBytes.TemporaryFolder();
        string taken = folder.File("model.safetensors");
        Directory.CreateDirectory(taken);   // a folder where the file should go: the final rename fails

        var error = Record.Exception(() => ModelFile.Write(taken, NoMetadata, [("x", [1], new float[] { 1 })]));
        Assert.True(error is IOException or UnauthorizedAccessException, $"Expected an I/O error, got {error?.GetType().Name ?? "none"}.");
        Assert.Empty(Directory.GetFiles(folder.Path));
        Assert.True(Directory.Exists(taken));

        Assert.Throws<DirectoryNotFoundException>(() => ModelFile.Write(folder.File(Path.Combine("missing", "model.safetensors")), NoMetadata, [("x", [1], new float[] { 1 })]));
    }

    [Fact]
    public void AConfigurationThatIsNotTheModelsOptions_IsAnErrorNamingTheSource()
    {
        var error = Assert.Throws<InvalidDataException>(() => SequenceModelFile.FromJson("{not json"));
        Assert.StartsWith("The model file: the configuration is not valid JSON for SequenceModelOptions (", error.Message);
        Assert.EndsWith(").", error.Message);
        Assert.IsAssignableFrom<System.Text.Json.JsonException>(error.InnerException);

        error = Assert.Throws<InvalidDataException>(() => SequenceModelFile.FromJson("null", "m.safetensors"));
        Assert.Equal("m.safetensors: the configuration is empty.", error.Message);
    }

    [Fact]
    public void Contents_DescribeTheirTensors_AndAMissingNameListsThoseThere()
    {
        byte[] file = SafetensorsBytes.File(
            """{"w":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}}""", new byte[12]);

        var anonymous = ModelFile.Read(new MemoryStream(file));
        Assert.Equal("w [1, 2] F32", anonymous["w"].ToString());
        Assert.Equal("b [2] BF16", anonymous["b"].ToString());
        Assert.Equal("The model file has no tensor 'v'. It has: w, b.", Assert.Throws<KeyNotFoundException>(() => anonymous["v"]).Message);

        var named = ModelFile.Read(new MemoryStream(file), source: "m.safetensors");
        Assert.Equal("m.safetensors has no tensor 'v'. It has: w, b.", Assert.Throws<KeyNotFoundException>(() => named["v"]).Message);
    }
}
