using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Data.IO;
using Microsoft.ML.Runtime;

namespace MlNet.Rnn;

/// <summary>
/// What every MlNet.Rnn transformer writes and reads the same way inside an ML.NET model: the check that the model is
/// not from a newer MlNet.Rnn, and the label column (with its key values) as an empty data view in a binary stream.
/// </summary>
internal static class SavedModelParts
{
    /// <summary>Name of the stream holding the label column's schema.</summary>
    public const string LabelStream = "LabelSchema.idv";

    /// <summary>
    /// Refuses a model written by a newer MlNet.Rnn, or in a format older than this one reads back, with a message that
    /// says what to do, then checks the header as ML.NET does. <paramref name="what"/> names the component ("a recurrent transformer").
    /// </summary>
    public static void CheckVersion(IHostEnvironment env, ModelLoadContext ctx, VersionInfo info, uint version, string what)
    {
        if (ctx.Header.ModelSignature == info.ModelSignature && ctx.Header.ModelVerReadable > version)
            // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
            throw env.Except(string.Create(CultureInfo.InvariantCulture,
                $"This model holds {what} saved by a newer MlNet.Rnn (format version 0x{ctx.Header.ModelVerReadable:X8}); " +
                $"this MlNet.Rnn ({typeof(SavedModelParts).Assembly.GetName().Version}) reads up to 0x{version:X8}. Update the MlNet.Rnn package."));
        if (ctx.Header.ModelSignature == info.ModelSignature && ctx.Header.ModelVerWritten < info.VerWeCanReadBack)
            // Stryker disable once String : Stryker cannot pass a mutated concatenation of interpolated strings to string.Create's handler
            throw env.Except(string.Create(CultureInfo.InvariantCulture,
                $"This model holds {what} saved in format version 0x{ctx.Header.ModelVerWritten:X8}, older than the oldest this MlNet.Rnn reads " +
                $"(0x{info.VerWeCanReadBack:X8}). Load it with the MlNet.Rnn version that saved it, or train the model again."));
        ctx.CheckAtModel(info);
    }

    /// <summary>Saves <paramref name="label"/> (type and annotations, no rows) to <see cref="LabelStream"/>.</summary>
    public static void SaveLabel(IHost host, ModelSaveContext ctx, DataViewSchema.Column label)
    {
        ctx.SaveBinaryStream(LabelStream, stream =>
        {
            using var channel = host.Start("Saving the label's key values");
            var builder = new DataViewSchema.Builder();
            builder.AddColumn(label.Name, label.Type, label.Annotations);
            var saver = new BinarySaver(host, new BinarySaver.Arguments { Silent = true });
            DataSaverUtils.SaveDataView(channel, saver, new EmptyDataView(host, builder.ToSchema()), stream.BaseStream);
        });
    }

    /// <summary>Loads the label column written by <see cref="SaveLabel"/>; <paramref name="what"/> names the model in the error.</summary>
    public static DataViewSchema.Column LoadLabel(IHostEnvironment env, ModelLoadContext ctx, string what)
    {
        var buffer = new MemoryStream();
        if (!ctx.TryLoadBinaryStream(LabelStream, stream => stream.BaseStream.CopyTo(buffer)))
            throw env.ExceptDecode($"The saved {what} has no {LabelStream}.");
        buffer.Position = 0;
        try
        {
            return new BinaryLoader(env, new BinaryLoader.Arguments(), buffer).Schema[0];
        }
        catch (Exception exception) when (exception is FormatException or IOException or InvalidOperationException or InvalidDataException or ArgumentException)
        {
            // ML.NET's binary loader reports a damaged stream in its own words (a short read is an EndOfStreamException); name the stream.
            throw env.Except(exception, $"The saved {what}'s {LabelStream} cannot be read: {exception.Message}");
        }
    }
}
