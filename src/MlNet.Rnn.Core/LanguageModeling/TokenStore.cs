using System.Globalization;
using System.Runtime.InteropServices;
using MlNet.Rnn.Core.Data;

namespace MlNet.Rnn.Core.LanguageModeling;

/// <summary>
/// The one id sequence a <see cref="LanguageModel"/> trains on, <c>start d_1 end start d_2 end …</c>, written a document at a
/// time and read back at any position, in bounded memory however long the text. The ids stay in one array while it fits in
/// <c>memoryBudget</c> bytes (4 per id): training then reads them from memory. Past the budget the store spills to a temporary
/// file (on Unix unlinked as soon as it is open, on Windows deleted when its handle closes, as <see cref="SequenceCache"/>'s):
/// the array is written out and from then on collects the next ids, written out whenever it is full. Training reads the k + 1
/// ids of each stream's chunk at their offset in the file; the order of the ids is the same either way, so a model trains
/// exactly as from memory. Positions are longs: more than 2³¹ ids fit.
/// </summary>
public sealed class TokenStore : ITokenSource, IDisposable
{
    /// <summary>First capacity of the array: it doubles from here up to the budget.</summary>
    private const int InitialCapacity = 4096;

    private readonly string _role;
    private readonly int _capacity;
    private readonly string? _directory;
    private int[] _ids = [];
    private int _held;
    private long _written;
    private FileStream? _file;
    private bool _completed, _disposed;

    /// <summary>An empty store of ids of <paramref name="vocabulary"/>.</summary>
    /// <param name="vocabulary">The vocabulary the ids belong to: its V bounds them, its start and end ids enclose each document.</param>
    /// <param name="role">What the documents are, for messages: "training" or "validation".</param>
    /// <param name="memoryBudget">Bytes of ids held in memory before the store spills to a temporary file.</param>
    /// <param name="directory">Where the temporary file goes; null for the system's temporary folder.</param>
    public TokenStore(Vocabulary vocabulary, string role, long memoryBudget, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentException.ThrowIfNullOrWhiteSpace(role);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(memoryBudget);
        Vocabulary = vocabulary;
        _role = role;
        _capacity = (int)Math.Clamp(memoryBudget / sizeof(int), 1, Array.MaxLength);
        _directory = directory;
    }

    /// <summary>The vocabulary of the ids.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>Documents added.</summary>
    public long DocumentCount { get; private set; }

    /// <summary>Ids held, each document's start and end included.</summary>
    public long Count => _written + _held;

    /// <summary>Ids of the documents' tokens: <see cref="Count"/> without the start and end ids.</summary>
    public long TokenCount => Count - 2 * DocumentCount;

    /// <summary>Whether the ids outgrew the budget and live in a temporary file.</summary>
    public bool Spilled => _file is not null;

    /// <summary>The temporary file (null while in memory; on Unix it has no name in its folder once open).</summary>
    public string? FilePath => _file?.Name;

    /// <summary>Bytes written to the temporary file.</summary>
    public long BytesOnDisk => _written * sizeof(int);

    /// <summary>Appends one document, <c>start, its ids, end</c>.</summary>
    /// <param name="ids">The document's ids in [0, V), without start and end.</param>
    /// <exception cref="ArgumentException">An id is outside the vocabulary (the message names the document and the position).</exception>
    /// <exception cref="InvalidOperationException">The store has been read.</exception>
    public void Add(ReadOnlySpan<int> ids)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed) throw new InvalidOperationException("The store is complete (it has been read); add every document before reading.");
        TokenSequence.CheckIds(ids, Vocabulary.Count, string.Create(CultureInfo.InvariantCulture, $"{_role} document {DocumentCount}"), nameof(ids));
        Append([Vocabulary.StartId]);
        Append(ids);
        Append([Vocabulary.EndId]);
        DocumentCount++;
    }

    /// <summary>Writes the ids still in memory to the file, if the store spilled; after this it is read-only. Reading completes it too.</summary>
    public void Complete()
    {
        if (_completed) return;
        _completed = true;
        if (!Spilled) return;
        if (_held > 0) Flush();
        _ids = [];
    }

    /// <summary>Copies ids <c>position … position + destination.Length − 1</c> into <paramref name="destination"/>: from memory, or one read of the file.</summary>
    public void Read(long position, Span<int> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Complete();
        if (position < 0 || position > Count - destination.Length)
            throw new ArgumentOutOfRangeException(nameof(position), position,
                string.Create(CultureInfo.InvariantCulture, $"Ids {position} … {position + destination.Length - 1} are outside the store's {Count}."));
        if (!Spilled)
        {
            _ids.AsSpan((int)position, destination.Length).CopyTo(destination);
            return;
        }
        TemporaryFile.ReadExactly(_file!.SafeFileHandle, MemoryMarshal.AsBytes(destination), position * sizeof(int), _file.Name);
    }

    /// <summary>Deletes the temporary file.</summary>
    public void Dispose()
    {
        _disposed = true;
        _file?.Dispose();
        _ids = [];
    }

    private void Append(ReadOnlySpan<int> ids)
    {
        while (!ids.IsEmpty)
        {
            if (_held == _ids.Length) MakeRoom();
            int n = Math.Min(ids.Length, _ids.Length - _held);
            ids[..n].CopyTo(_ids.AsSpan(_held));
            _held += n;
            ids = ids[n..];
        }
    }

    /// <summary>The array doubles while it fits in the budget; full at the budget, it is written out (the first time, to a new file: the spill).</summary>
    private void MakeRoom()
    {
        if (_ids.Length < _capacity) Array.Resize(ref _ids, (int)Math.Min(Math.Max(2L * _ids.Length, InitialCapacity), _capacity));
        else Flush();
    }

    private void Flush()
    {
        _file ??= TemporaryFile.Create(_directory, "mlnet-rnn-tokens");
        RandomAccess.Write(_file.SafeFileHandle, MemoryMarshal.AsBytes(_ids.AsSpan(0, _held)), BytesOnDisk);
        _written += _held;
        _held = 0;
    }
}
