using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;

namespace ServerlessDb.Vfs;

/// <summary>
/// The SQLite VFS of lazy reads and writes, registered once per process on e_sqlite3 (the library
/// Microsoft.Data.Sqlite runs on) under <see cref="Name"/>. Its xOpen resolves a main database name to a live lease:
/// a <see cref="LazyFileLease"/>'s file is served read-only and immutable from its pinned version, a
/// <see cref="LazyWriteLease"/>'s read-write through its overlay (each kind with its own I/O methods, so a read
/// lease cannot write whatever it is asked). Every callback catches everything, since an exception that reached
/// native code would end the process, and answers with an SQLite result code instead.
/// </summary>
/// <remarks>
/// Files other than main databases: an immutable database needs no journal, WAL or super-journal, and a write
/// lease's connection keeps its journal in memory, so those are refused (<c>SQLITE_CANTOPEN</c>) and never exist
/// (xAccess); the temporary files a query may spill to (sorts, temp tables, statement journals, VACUUM's copy) are
/// unnamed scratch files of the connection, so they go to the default VFS (<c>unix</c>), which is why our
/// <c>sqlite3_file</c> is as large as its.
/// </remarks>
internal static unsafe class LazyVfs
{
    /// <summary>The VFS's name, as a connection URI's <c>vfs=</c> names it.</summary>
    public const string Name = "serverlessdb-lazy";

    private const int TransientFiles = SqliteCodes.OpenTempDb | SqliteCodes.OpenTransientDb | SqliteCodes.OpenTempJournal | SqliteCodes.OpenSubjournal;
    private const int SectorBytes = 4096;

    private static readonly ConcurrentDictionary<string, LazyLease> Leases = new(StringComparer.Ordinal);
    private static readonly object RegistrationGate = new();
    private static SqliteVfsStruct* s_defaultVfs;
    private static SqliteIoMethodsStruct* s_readIoMethods;
    private static SqliteIoMethodsStruct* s_writeIoMethods;
    private static bool s_registered;

    /// <summary>Registers the VFS with SQLite unless it already is (not as the default VFS: only URIs that name it use it).</summary>
    public static void EnsureRegistered()
    {
        lock (RegistrationGate)
        {
            if (s_registered)
            {
                return;
            }

            var library = NativeLibrary.Load("e_sqlite3", typeof(SQLitePCL.SQLite3Provider_e_sqlite3).Assembly, null);
            var find = (delegate* unmanaged<byte*, SqliteVfsStruct*>)NativeLibrary.GetExport(library, "sqlite3_vfs_find");
            var register = (delegate* unmanaged<SqliteVfsStruct*, int, int>)NativeLibrary.GetExport(library, "sqlite3_vfs_register");

            fixed (byte* unix = "unix"u8)
            {
                s_defaultVfs = find(unix);
            }

            if (s_defaultVfs is null)
            {
                throw new InvalidOperationException("SQLite has no 'unix' VFS to hand temporary files to; lazy reads need a Unix build of e_sqlite3.");
            }

            // Native memory, never freed: SQLite keeps these pointers for the life of the process.
            s_readIoMethods = NativeCopy(ReadIoMethods());
            s_writeIoMethods = NativeCopy(WriteIoMethods());
            var vfs = (SqliteVfsStruct*)NativeMemory.AllocZeroed((nuint)sizeof(SqliteVfsStruct));
            *vfs = Vfs(NativeName(), Math.Max(sizeof(SqliteFileStruct), s_defaultVfs->FileStructBytes), s_defaultVfs->MaxPathname);
            var result = register(vfs, 0);
            if (result != SqliteCodes.Ok)
            {
                throw new InvalidOperationException($"sqlite3_vfs_register refused the lazy VFS (SQLite result {result}).");
            }

            s_registered = true;
        }
    }

    /// <summary>A name no lease has had in this process.</summary>
    internal static string NewFileName() => $"/{Name}/{Guid.NewGuid():N}";

    internal static TLease Remember<TLease>(TLease lease)
        where TLease : LazyLease
    {
        Leases[lease.FileName] = lease;
        return lease;
    }

    internal static void Forget(string fileName) => Leases.TryRemove(fileName, out _);

    private static byte* NativeName()
    {
        var bytes = Encoding.UTF8.GetBytes(Name + "\0");
        var name = (byte*)NativeMemory.Alloc((nuint)bytes.Length);
        bytes.CopyTo(new Span<byte>(name, bytes.Length));
        return name;
    }

    private static SqliteVfsStruct Vfs(byte* name, int fileStructBytes, int maxPathname) => new()
    {
        Version = 2,
        FileStructBytes = fileStructBytes,
        MaxPathname = maxPathname,
        Name = name,
        Open = &Open,
        Delete = &Delete,
        Access = &Access,
        FullPathname = &FullPathname,
        DlOpen = &DlOpen,
        DlError = &DlError,
        DlSym = &DlSym,
        DlClose = &DlClose,
        Randomness = &Randomness,
        Sleep = &Sleep,
        CurrentTime = &CurrentTime,
        GetLastError = &GetLastError,
        CurrentTimeInt64 = &CurrentTimeInt64,
    };

    private static SqliteIoMethodsStruct* NativeCopy(SqliteIoMethodsStruct methods)
    {
        var copy = (SqliteIoMethodsStruct*)NativeMemory.AllocZeroed((nuint)sizeof(SqliteIoMethodsStruct));
        *copy = methods;
        return copy;
    }

    /// <summary>A write lease's file: writes reach its overlay, and it is not immutable.</summary>
    private static SqliteIoMethodsStruct WriteIoMethods() => ReadIoMethods() with
    {
        Write = &Write,
        Truncate = &Truncate,
        Sync = &Sync,
        DeviceCharacteristics = &WritableDeviceCharacteristics,
    };

    /// <summary>A read lease's file: every write is refused, and it never changes.</summary>
    private static SqliteIoMethodsStruct ReadIoMethods() => new()
    {
        Version = 1,
        Close = &Close,
        Read = &Read,
        Write = &RefuseWrite,
        Truncate = &RefuseTruncate,
        Sync = &RefuseSync,
        FileSize = &FileSize,
        Lock = &Lock,
        Unlock = &Unlock,
        CheckReservedLock = &CheckReservedLock,
        FileControl = &FileControl,
        SectorSize = &SectorSize,
        DeviceCharacteristics = &DeviceCharacteristics,
    };

    [UnmanagedCallersOnly]
    private static int Open(SqliteVfsStruct* vfs, byte* name, SqliteFileStruct* file, int flags, int* outFlags)
    {
        try
        {
            file->Methods = null;
            if ((flags & SqliteCodes.OpenMainDb) == 0)
            {
                return (flags & TransientFiles) != 0 ? s_defaultVfs->Open(s_defaultVfs, name, file, flags, outFlags) : SqliteCodes.CantOpen;
            }

            if (name is null || !Leases.TryGetValue(Marshal.PtrToStringUTF8((nint)name) ?? "", out var lease))
            {
                return SqliteCodes.CantOpen;
            }

            var openFile = lease.OpenFile();
            var writable = openFile is LazyWriteFile;
            file->OpenFile = GCHandle.ToIntPtr(GCHandle.Alloc(openFile));
            file->Methods = writable ? s_writeIoMethods : s_readIoMethods;
            if (outFlags is not null)
            {
                // A read lease is read-only whatever was asked: SQLite then refuses every write with SQLITE_READONLY.
                *outFlags = writable ? flags & ~SqliteCodes.OpenCreate : (flags & ~(SqliteCodes.OpenReadWrite | SqliteCodes.OpenCreate)) | SqliteCodes.OpenReadOnly;
            }

            return SqliteCodes.Ok;
        }
        catch (Exception)
        {
            return SqliteCodes.CantOpen;
        }
    }

    [UnmanagedCallersOnly]
    private static int Delete(SqliteVfsStruct* vfs, byte* name, int syncDirectory) => SqliteCodes.IoErrorDelete;

    [UnmanagedCallersOnly]
    private static int Access(SqliteVfsStruct* vfs, byte* name, int flags, int* result)
    {
        try
        {
            // Only leased main databases exist here: no journal or WAL ever exists beside them.
            *result = name is not null && flags == SqliteCodes.AccessExists && Leases.ContainsKey(Marshal.PtrToStringUTF8((nint)name) ?? "") ? 1 : 0;
            return SqliteCodes.Ok;
        }
        catch (Exception)
        {
            return SqliteCodes.IoError | (13 << 8); // SQLITE_IOERR_ACCESS
        }
    }

    [UnmanagedCallersOnly]
    private static int FullPathname(SqliteVfsStruct* vfs, byte* name, int outBytes, byte* fullPath)
    {
        try
        {
            // Our names are already absolute and name no real file: the full path is the name.
            var path = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(name);
            if (path.Length + 1 > outBytes)
            {
                return SqliteCodes.CantOpen;
            }

            var output = new Span<byte>(fullPath, outBytes);
            path.CopyTo(output);
            output[path.Length] = 0;
            return SqliteCodes.Ok;
        }
        catch (Exception)
        {
            return SqliteCodes.CantOpen;
        }
    }

    // Extensions are not loaded on lazy connections: xDlOpen fails, and xDlError says why.
    [UnmanagedCallersOnly]
    private static void* DlOpen(SqliteVfsStruct* vfs, byte* fileName) => null;

    [UnmanagedCallersOnly]
    private static void DlError(SqliteVfsStruct* vfs, int bytes, byte* message)
    {
        if (bytes <= 0)
        {
            return;
        }

        var text = "extensions cannot be loaded through the lazy read VFS"u8;
        var output = new Span<byte>(message, bytes);
        var count = Math.Min(text.Length, bytes - 1);
        text[..count].CopyTo(output);
        output[count] = 0;
    }

    [UnmanagedCallersOnly]
    private static void* DlSym(SqliteVfsStruct* vfs, void* library, byte* symbol) => null;

    [UnmanagedCallersOnly]
    private static void DlClose(SqliteVfsStruct* vfs, void* library)
    {
    }

    // Randomness, sleep, the clock and the last OS error are the default VFS's: nothing of ours is in them.
    [UnmanagedCallersOnly]
    private static int Randomness(SqliteVfsStruct* vfs, int bytes, byte* output) => s_defaultVfs->Randomness(s_defaultVfs, bytes, output);

    [UnmanagedCallersOnly]
    private static int Sleep(SqliteVfsStruct* vfs, int microseconds) => s_defaultVfs->Sleep(s_defaultVfs, microseconds);

    [UnmanagedCallersOnly]
    private static int CurrentTime(SqliteVfsStruct* vfs, double* julianDay) => s_defaultVfs->CurrentTime(s_defaultVfs, julianDay);

    [UnmanagedCallersOnly]
    private static int GetLastError(SqliteVfsStruct* vfs, int bytes, byte* message) => s_defaultVfs->GetLastError(s_defaultVfs, bytes, message);

    [UnmanagedCallersOnly]
    private static int CurrentTimeInt64(SqliteVfsStruct* vfs, long* julianMilliseconds) => s_defaultVfs->CurrentTimeInt64(s_defaultVfs, julianMilliseconds);

    [UnmanagedCallersOnly]
    private static int Close(SqliteFileStruct* file)
    {
        try
        {
            if (file->OpenFile != 0)
            {
                var handle = GCHandle.FromIntPtr(file->OpenFile);
                (handle.Target as LazySqliteFile)?.Close();
                handle.Free();
                file->OpenFile = 0;
            }

            return SqliteCodes.Ok;
        }
        catch (Exception)
        {
            return SqliteCodes.IoError | (16 << 8); // SQLITE_IOERR_CLOSE
        }
    }

    [UnmanagedCallersOnly]
    private static int Read(SqliteFileStruct* file, byte* buffer, int bytes, long offset)
    {
        try
        {
            // LazySqliteFile.Read catches and keeps its own failures; this catch is for anything before it.
            return OpenFileOf(file).Read(new Span<byte>(buffer, bytes), offset);
        }
        catch (Exception)
        {
            return SqliteCodes.IoErrorRead;
        }
    }

    [UnmanagedCallersOnly]
    private static int RefuseWrite(SqliteFileStruct* file, byte* buffer, int bytes, long offset) => SqliteCodes.ReadOnly;

    [UnmanagedCallersOnly]
    private static int RefuseTruncate(SqliteFileStruct* file, long size) => SqliteCodes.ReadOnly;

    [UnmanagedCallersOnly]
    private static int RefuseSync(SqliteFileStruct* file, int flags) => SqliteCodes.ReadOnly;

    [UnmanagedCallersOnly]
    private static int Write(SqliteFileStruct* file, byte* buffer, int bytes, long offset)
    {
        try
        {
            // LazyWriteFile.Write catches and keeps its own failures; this catch is for anything before it.
            return WriteFileOf(file).Write(new ReadOnlySpan<byte>(buffer, bytes), offset);
        }
        catch (Exception)
        {
            return SqliteCodes.IoErrorWrite;
        }
    }

    [UnmanagedCallersOnly]
    private static int Truncate(SqliteFileStruct* file, long size)
    {
        try
        {
            return WriteFileOf(file).Truncate(size);
        }
        catch (Exception)
        {
            return SqliteCodes.IoErrorTruncate;
        }
    }

    // Durability comes from the upload of the new file, not from this one: there is nothing to sync.
    [UnmanagedCallersOnly]
    private static int Sync(SqliteFileStruct* file, int flags) => SqliteCodes.Ok;

    [UnmanagedCallersOnly]
    private static int FileSize(SqliteFileStruct* file, long* size)
    {
        try
        {
            *size = OpenFileOf(file).Length;
            return SqliteCodes.Ok;
        }
        catch (Exception)
        {
            return SqliteCodes.IoError | (7 << 8); // SQLITE_IOERR_FSTAT
        }
    }

    // A read lease's file never changes, and a write lease's has one connection: every lock is granted, none is
    // ever held by another.
    [UnmanagedCallersOnly]
    private static int Lock(SqliteFileStruct* file, int level) => SqliteCodes.Ok;

    [UnmanagedCallersOnly]
    private static int Unlock(SqliteFileStruct* file, int level) => SqliteCodes.Ok;

    [UnmanagedCallersOnly]
    private static int CheckReservedLock(SqliteFileStruct* file, int* result)
    {
        *result = 0;
        return SqliteCodes.Ok;
    }

    [UnmanagedCallersOnly]
    private static int FileControl(SqliteFileStruct* file, int operation, void* argument) => SqliteCodes.NotFound;

    [UnmanagedCallersOnly]
    private static int SectorSize(SqliteFileStruct* file) => SectorBytes;

    [UnmanagedCallersOnly]
    private static int DeviceCharacteristics(SqliteFileStruct* file) => SqliteCodes.IoCapImmutable;

    // No promise at all (not even immutable): SQLite then assumes the least of a writable file.
    [UnmanagedCallersOnly]
    private static int WritableDeviceCharacteristics(SqliteFileStruct* file) => 0;

    private static LazySqliteFile OpenFileOf(SqliteFileStruct* file) =>
        GCHandle.FromIntPtr(file->OpenFile).Target as LazySqliteFile
        ?? throw new InvalidOperationException("An SQLite file of the lazy VFS has no open file behind it.");

    private static LazyWriteFile WriteFileOf(SqliteFileStruct* file) =>
        OpenFileOf(file) as LazyWriteFile ?? throw new InvalidOperationException("A write reached a file of the lazy VFS that is not writable.");
}
