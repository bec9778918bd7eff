using System.Runtime.InteropServices;

namespace ServerlessDb.Vfs;

// The structs of sqlite3.h that a VFS fills in, field for field in sqlite3.h's order (C layout: sequential, natural
// alignment). Only the fields of the versions we declare are read by SQLite: sqlite3_vfs version 2 (up to
// xCurrentTimeInt64) and sqlite3_io_methods version 1 (up to xDeviceCharacteristics, so no WAL, no memory map).

/// <summary><c>struct sqlite3_vfs</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SqliteVfsStruct
{
    public int Version;
    public int FileStructBytes;
    public int MaxPathname;
    public SqliteVfsStruct* Next;
    public byte* Name;
    public void* AppData;
    public delegate* unmanaged<SqliteVfsStruct*, byte*, SqliteFileStruct*, int, int*, int> Open;
    public delegate* unmanaged<SqliteVfsStruct*, byte*, int, int> Delete;
    public delegate* unmanaged<SqliteVfsStruct*, byte*, int, int*, int> Access;
    public delegate* unmanaged<SqliteVfsStruct*, byte*, int, byte*, int> FullPathname;
    public delegate* unmanaged<SqliteVfsStruct*, byte*, void*> DlOpen;
    public delegate* unmanaged<SqliteVfsStruct*, int, byte*, void> DlError;
    public delegate* unmanaged<SqliteVfsStruct*, void*, byte*, void*> DlSym;
    public delegate* unmanaged<SqliteVfsStruct*, void*, void> DlClose;
    public delegate* unmanaged<SqliteVfsStruct*, int, byte*, int> Randomness;
    public delegate* unmanaged<SqliteVfsStruct*, int, int> Sleep;
    public delegate* unmanaged<SqliteVfsStruct*, double*, int> CurrentTime;
    public delegate* unmanaged<SqliteVfsStruct*, int, byte*, int> GetLastError;
    public delegate* unmanaged<SqliteVfsStruct*, long*, int> CurrentTimeInt64;
    public void* SetSystemCall;
    public void* GetSystemCall;
    public void* NextSystemCall;
}

/// <summary><c>struct sqlite3_file</c> as the lazy VFS extends it: SQLite's one field, then the open file's handle.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SqliteFileStruct
{
    public SqliteIoMethodsStruct* Methods;

    /// <summary>A <see cref="GCHandle"/> of the <see cref="LazySqliteFile"/>; ours only (a delegated file's methods are the default VFS's).</summary>
    public nint OpenFile;
}

/// <summary><c>struct sqlite3_io_methods</c>, version 1.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SqliteIoMethodsStruct
{
    public int Version;
    public delegate* unmanaged<SqliteFileStruct*, int> Close;
    public delegate* unmanaged<SqliteFileStruct*, byte*, int, long, int> Read;
    public delegate* unmanaged<SqliteFileStruct*, byte*, int, long, int> Write;
    public delegate* unmanaged<SqliteFileStruct*, long, int> Truncate;
    public delegate* unmanaged<SqliteFileStruct*, int, int> Sync;
    public delegate* unmanaged<SqliteFileStruct*, long*, int> FileSize;
    public delegate* unmanaged<SqliteFileStruct*, int, int> Lock;
    public delegate* unmanaged<SqliteFileStruct*, int, int> Unlock;
    public delegate* unmanaged<SqliteFileStruct*, int*, int> CheckReservedLock;
    public delegate* unmanaged<SqliteFileStruct*, int, void*, int> FileControl;
    public delegate* unmanaged<SqliteFileStruct*, int> SectorSize;
    public delegate* unmanaged<SqliteFileStruct*, int> DeviceCharacteristics;
}
