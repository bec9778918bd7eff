namespace ServerlessDb.Engine;

/// <summary>The kind of one statement, and the prepare error when it is <see cref="StatementKind.Unprepared"/>.</summary>
internal readonly record struct Classification(StatementKind Kind, string? PrepareError);
