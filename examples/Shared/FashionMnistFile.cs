using System.Buffers.Binary;
using System.IO.Compression;

namespace MlNet.Rnn.Examples;

/// <summary>
/// Reads Fashion-MNIST's IDX files (gzip; big-endian header: magic, counts, then unsigned bytes), as fetched by
/// <c>examples/data/fetch.sh fashion-mnist</c>.
/// </summary>
public static class FashionMnistFile
{
    /// <summary>The classes, in label order.</summary>
    public static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The folder holding the files: $MLNET_RNN_DATA/fashion-mnist or examples/data/cache/fashion-mnist.</summary>
    public static string Folder() => Path.GetDirectoryName(DataCache.File("fashion-mnist", "train-images-idx3-ubyte.gz"))!;

    /// <summary>Images as rows of 28·28 bytes, and labels 0..9.</summary>
    public static (byte[][] Images, byte[] Labels) Read(string folder, bool training)
    {
        string prefix = training ? "train" : "t10k";
        byte[] images = Decompress(Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz"));
        byte[] labels = Decompress(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz"));
        if (BinaryPrimitives.ReadInt32BigEndian(images) != 2051 || BinaryPrimitives.ReadInt32BigEndian(labels) != 2049)
            throw new InvalidDataException($"{folder}: not IDX image/label files (wrong magic numbers).");
        int count = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(4)), rows = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(8));
        int columns = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(12));
        if (rows != 28 || columns != 28 || BinaryPrimitives.ReadInt32BigEndian(labels.AsSpan(4)) != count)
            throw new InvalidDataException($"{folder}: expected {count} images of 28×28 with as many labels.");
        var result = new byte[count][];
        for (int i = 0; i < count; i++) result[i] = images.AsSpan(16 + i * 784, 784).ToArray();
        return (result, labels.AsSpan(8, count).ToArray());
    }

    private static byte[] Decompress(string path)
    {
        using var input = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }
}
