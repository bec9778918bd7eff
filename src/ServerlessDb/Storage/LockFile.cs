using ServerlessDb.Errors;

namespace ServerlessDb.Storage;

/// <summary>
/// An exclusive lock on a file, held across processes while the instance lives: the file is open
/// with <see cref="FileShare.None"/>, which .NET enforces with an advisory <c>flock</c> on Unix and
/// a share mode on Windows. The file itself is never deleted: deleting a lock file races with its next holder.
/// </summary>
internal sealed class LockFile : IDisposable
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(2);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMilliseconds(50);

    private readonly FileStream _stream;

    private LockFile(FileStream stream) => _stream = stream;

    /// <summary>Takes the lock on <paramref name="path"/> (creating the file), retrying with backoff and jitter while another holder has it.</summary>
    /// <exception cref="StorageUnavailableException">the lock stayed held for <paramref name="wait"/>.</exception>
    public static async Task<LockFile> AcquireAsync(string path, TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
    {
        var startedAt = time.GetTimestamp();
        var delay = FirstRetryDelay;
        while (true)
        {
            try
            {
                return new LockFile(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1));
            }
            catch (IOException e) when (IsHeldElsewhere(e))
            {
                if (time.GetElapsedTime(startedAt) >= wait)
                {
                    throw new StorageUnavailableException(
                        $"The lock file {path} stayed held by another writer for {wait.TotalSeconds:0.###} s.", e);
                }
            }

            await Task.Delay(delay + (delay * Random.Shared.NextDouble()), time, cancellationToken);
            delay = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
        }
    }

    /// <summary>Takes the lock on <paramref name="path"/> (creating the file) if no other holder has it; null when one does.</summary>
    /// <exception cref="DirectoryNotFoundException">the folder of <paramref name="path"/> does not exist.</exception>
    public static LockFile? TryAcquire(string path)
    {
        try
        {
            return new LockFile(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1));
        }
        catch (IOException e) when (IsHeldElsewhere(e))
        {
            return null;
        }
    }

    public void Dispose() => _stream.Dispose();

    // Unix reports flock's EWOULDBLOCK as the raw errno (11 on Linux, 35 on macOS); Windows as
    // ERROR_SHARING_VIOLATION (32) or ERROR_LOCK_VIOLATION (33) in an HRESULT.
    private static bool IsHeldElsewhere(IOException exception) =>
        exception is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException)
        && (exception.HResult is 11 or 35 || (exception.HResult & 0xFFFF) is 32 or 33);
}
