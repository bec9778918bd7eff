namespace ServerlessDb.Storage;

/// <summary>An object as read: its key, its ETag, its first bytes (<see cref="IsWhole"/> when they are all of it), when it was stored, and its metadata.</summary>
internal sealed record StoredObject(string Key, string ETag, byte[] Content, bool IsWhole, DateTimeOffset LastModified, ObjectMetadata Metadata);
