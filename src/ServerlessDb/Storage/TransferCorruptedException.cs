namespace ServerlessDb.Storage;

/// <summary>The bytes a download brought differ from the checksum their commit stored: damaged on the way; the download is retried.</summary>
internal sealed class TransferCorruptedException(string message) : Exception(message);
