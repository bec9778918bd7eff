namespace ServerlessDb.Storage.Collection;

/// <summary>The chunks the stored manifests of a database name could not be known for certain; the collector deletes nothing for it.</summary>
internal sealed class ChunkReferencesUnknownException(string message, Exception? inner = null) : Exception(message, inner);
