namespace Cli.Output;

/// <summary>How rows are printed, as sqlite3's <c>.mode</c> names them.</summary>
internal enum OutputMode
{
    Table,
    Csv,
    Json,
    Line,
}
