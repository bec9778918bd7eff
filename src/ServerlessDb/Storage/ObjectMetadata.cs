namespace ServerlessDb.Storage;

/// <summary>What an object is stored with besides its bytes: its content type and the user metadata (names without <c>x-amz-meta-</c>, lower case).</summary>
internal sealed record ObjectMetadata(string ContentType, IReadOnlyDictionary<string, string> User)
{
    public ObjectMetadata(string contentType)
        : this(contentType, new Dictionary<string, string>())
    {
    }
}
