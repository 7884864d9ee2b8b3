using Microsoft.ML;

namespace MlNet.Rnn.Scoring;

/// <summary>
/// One cursor's (or prediction engine's) scorer, what a task supplies to <see cref="BatchScoredDataView"/> and
/// <see cref="BatchRowMapper"/>: it stages input rows (into the core's data-set type), scores the staged rows in one pass of a
/// workspace of its own over the shared, read-only model, and serves each staged row's added columns.
/// </summary>
internal interface IBatchScorer
{
    /// <summary>Rows staged since the last <see cref="Clear"/>.</summary>
    int Count { get; }

    /// <summary>Whether the staged rows reached the memory bound of one batch (scoring then starts before the batch size is reached).</summary>
    bool IsFull { get; }

    /// <summary>Stages the input row the scorer was made over, as it is now; <paramref name="position"/> names it in errors.</summary>
    void Stage(long position);

    /// <summary>Scores every staged row.</summary>
    void Score();

    /// <summary>Empties the staging area.</summary>
    void Clear();

    /// <summary>A getter of added column <paramref name="output"/> for the scored row <paramref name="row"/>() of the batch.</summary>
    Delegate Getter(int output, Func<int> row);
}

/// <summary>A task that adds columns to a data view by batch scoring: its added columns, what it reads, and its scorer.</summary>
internal interface IBatchScoringTask
{
    /// <summary>The added columns, in order.</summary>
    DataViewSchema.DetachedColumn[] OutputColumns { get; }

    /// <summary>Rows a cursor stages before it scores them.</summary>
    int ScoringBatchSize { get; }

    /// <summary>Threads one cursor's scoring may use; a cursor set shares them.</summary>
    int MaxDegreeOfParallelism { get; }

    /// <summary>
    /// Whether every row's output depends on the rows before it (a forecast after each observation): rows are then read by one
    /// cursor, in order, and the view cannot shuffle.
    /// </summary>
    bool InOrder { get; }

    /// <summary>The input columns the scorer reads from <paramref name="inputSchema"/>.</summary>
    IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema);

    /// <summary>A scorer of the rows of <paramref name="input"/> (its dependencies active): one forward pass gives every added column.</summary>
    IBatchScorer CreateScorer(DataViewRow input, int maxDegreeOfParallelism);
}
