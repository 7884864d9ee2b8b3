// Makes TorchSharp's native bridge (libLibTorchSharp.so) loadable on hosts whose libstdc++ is older
// than the one it was linked against.
//
// TorchSharp 0.107.0's libLibTorchSharp.so is built with GCC 13 and records a need for GLIBCXX_3.4.32;
// Debian 12's libstdc++ stops at GLIBCXX_3.4.30, so dlopen fails with "version `GLIBCXX_3.4.32' not
// found". No symbol of that version is ever called, so marking the requirement weak (VER_FLG_WEAK in
// the Elf64_Vernaux entry of .gnu.version_r) lets the dynamic loader accept the library.
//
// This file is self-contained (linked into several projects with <Compile Include=...>). Call
// TorchSharpNative.EnsureLoadable() first thing in Main, before any TorchSharp type is touched: a
// library that is already mapped cannot be fixed any more.
//
// Safety rules: only the copy in the build output is changed, never a file under the NuGet cache; the
// patched file is written beside the original and renamed over it (so a hard link into the cache is
// broken rather than written through); its timestamp is kept so MSBuild's incremental copy sees it as
// unchanged; nothing is done when the system libstdc++ already provides every required version.

#nullable enable

using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;

namespace MlNet.Rnn.Testing;

/// <summary>Makes TorchSharp's native library loadable where the system libstdc++ is too old.</summary>
internal static class TorchSharpNative
{
    private const string LibraryName = "libLibTorchSharp.so";
    private const uint ShtGnuVerdef = 0x6ffffffd;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    private static readonly object Gate = new();
    private static bool _done;

    /// <summary>
    /// Finds libLibTorchSharp.so next to the running assembly (AppContext.BaseDirectory and its
    /// runtimes/linux-x64/native/ folder) and, on Linux x64 only, marks every libstdc++ version
    /// requirement that the system libstdc++ does not define as weak. Idempotent and cheap after the
    /// first call. Never throws; problems are written to <paramref name="log"/> (standard error when null).
    /// </summary>
    /// <returns>True when a file was patched by this call.</returns>
    public static bool EnsureLoadable(TextWriter? log = null)
    {
        lock (Gate)
        {
            if (_done)
            {
                return false;
            }

            _done = true;
            log ??= Console.Error;
            if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            {
                return false;
            }

            try
            {
                return PatchAll(log);
            }
            catch (Exception e)
            {
                log.WriteLine($"TorchSharpNative: could not check {LibraryName}: {e.Message}");
                return false;
            }
        }
    }

    [SupportedOSPlatform("linux")]
    private static bool PatchAll(TextWriter log)
    {
        var baseDir = AppContext.BaseDirectory;
        var candidates = new[]
        {
            Path.Combine(baseDir, LibraryName),
            Path.Combine(baseDir, "runtimes", "linux-x64", "native", LibraryName),
        };

        HashSet<string>? provided = null;
        var patched = false;
        foreach (var path in candidates)
        {
            if (!File.Exists(path))
            {
                continue;
            }

            if (IsUnderNuGetCache(path))
            {
                log.WriteLine($"TorchSharpNative: refusing to patch {path}: it is inside the NuGet cache.");
                continue;
            }

            provided ??= SystemLibStdCxxVersions();
            if (provided is null)
            {
                log.WriteLine("TorchSharpNative: system libstdc++.so.6 not found; leaving the library as it is.");
                return patched;
            }

            patched |= PatchFile(path, provided, log);
        }

        return patched;
    }

    private static bool IsUnderNuGetCache(string path)
    {
        var full = Path.GetFullPath(path);
        var roots = new List<string>();
        var env = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (!string.IsNullOrEmpty(env))
        {
            roots.Add(env);
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home))
        {
            roots.Add(Path.Combine(home, ".nuget", "packages"));
        }

        foreach (var root in roots)
        {
            var r = Path.GetFullPath(root).TrimEnd('/') + "/";
            if (full.StartsWith(r, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Version names (GLIBCXX_*, CXXABI_*) defined by the libstdc++ this process will use.</summary>
    private static HashSet<string>? SystemLibStdCxxVersions()
    {
        var path = FindSystemLibStdCxx();
        if (path is null)
        {
            return null;
        }

        var elf = new ElfFile(File.ReadAllBytes(path));
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sh in elf.Sections)
        {
            if (sh.Type != ShtGnuVerdef)
            {
                continue;
            }

            var strtab = elf.Sections[(int)sh.Link];
            long off = (long)sh.Offset;
            for (var i = 0; i < (int)sh.Info; i++)
            {
                // Elf64_Verdef: vd_version u16, vd_flags u16, vd_ndx u16, vd_cnt u16, vd_hash u32, vd_aux u32, vd_next u32
                var cnt = elf.U16(off + 6);
                var aux = elf.U32(off + 12);
                var next = elf.U32(off + 16);
                long a = off + aux;
                for (var j = 0; j < cnt; j++)
                {
                    // Elf64_Verdaux: vda_name u32, vda_next u32
                    result.Add(elf.String(strtab, elf.U32(a)));
                    var an = elf.U32(a + 4);
                    if (an == 0)
                    {
                        break;
                    }

                    a += an;
                }

                if (next == 0)
                {
                    break;
                }

                off += next;
            }
        }

        return result;
    }

    private static string? FindSystemLibStdCxx()
    {
        // The one already mapped into this process (the dotnet host links libstdc++) is the one the
        // loader will bind to.
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var idx = line.IndexOf('/', StringComparison.Ordinal);
                if (idx < 0)
                {
                    continue;
                }

                var p = line[idx..].Trim();
                if (Path.GetFileName(p).StartsWith("libstdc++.so.6", StringComparison.Ordinal) && File.Exists(p))
                {
                    return p;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib" })
        {
            var p = Path.Combine(dir, "libstdc++.so.6");
            if (File.Exists(p))
            {
                return p;
            }
        }

        return null;
    }

    [SupportedOSPlatform("linux")]
    private static bool PatchFile(string path, HashSet<string> provided, TextWriter log)
    {
        var bytes = File.ReadAllBytes(path);
        var changes = new List<(long Offset, string Name)>();
        var elf = new ElfFile(bytes);
        foreach (var sh in elf.Sections)
        {
            if (sh.Type != ShtGnuVerneed)
            {
                continue;
            }

            var strtab = elf.Sections[(int)sh.Link];
            long off = (long)sh.Offset;
            for (var i = 0; i < (int)sh.Info; i++)
            {
                // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32
                var cnt = elf.U16(off + 2);
                var file = elf.String(strtab, elf.U32(off + 4));
                var aux = elf.U32(off + 8);
                var next = elf.U32(off + 12);
                if (file.StartsWith("libstdc++.so", StringComparison.Ordinal))
                {
                    long a = off + aux;
                    for (var j = 0; j < cnt; j++)
                    {
                        // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32
                        var flags = elf.U16(a + 4);
                        var name = elf.String(strtab, elf.U32(a + 8));
                        if (!provided.Contains(name) && (flags & VerFlgWeak) == 0)
                        {
                            changes.Add((a + 4, name));
                        }

                        var an = elf.U32(a + 12);
                        if (an == 0)
                        {
                            break;
                        }

                        a += an;
                    }
                }

                if (next == 0)
                {
                    break;
                }

                off += next;
            }
        }

        if (changes.Count == 0)
        {
            return false;
        }

        foreach (var (offset, _) in changes)
        {
            var flags = (ushort)(bytes[offset] | (bytes[offset + 1] << 8));
            flags |= VerFlgWeak;
            bytes[offset] = (byte)flags;
            bytes[offset + 1] = (byte)(flags >> 8);
        }

        // Write beside the original and rename over it: never writes through a hard link, and a process
        // that already mapped the old file keeps its own copy.
        var stamp = File.GetLastWriteTimeUtc(path);
        var mode = File.GetUnixFileMode(path);
        var tmp = path + ".weak-patch.tmp";
        File.WriteAllBytes(tmp, bytes);
        File.SetUnixFileMode(tmp, mode);
        File.SetLastWriteTimeUtc(tmp, stamp);
        File.Move(tmp, path, overwrite: true);
        var names = string.Join(", ", changes.Select(c => c.Name));
        log.WriteLine($"TorchSharpNative: marked {names} weak in {path} (the system libstdc++ lacks it).");
        return true;
    }

    private readonly record struct Section(uint Name, uint Type, ulong Offset, ulong Size, uint Link, uint Info);

    /// <summary>Minimal little-endian ELF64 reader over an in-memory image.</summary>
    private sealed class ElfFile
    {
        private readonly byte[] _data;

        public ElfFile(byte[] data)
        {
            _data = data;
            if (data.Length < 64 || data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
            {
                throw new InvalidDataException("not an ELF file");
            }

            if (data[4] != 2 || data[5] != 1)
            {
                throw new InvalidDataException("not a little-endian ELF64 file");
            }

            var shoff = U64(0x28);
            var shentsize = U16(0x3A);
            var shnum = U16(0x3C);
            if (shoff == 0 || shentsize < 64)
            {
                throw new InvalidDataException("no section headers");
            }

            var sections = new Section[shnum];
            for (var i = 0; i < shnum; i++)
            {
                long s = (long)shoff + (long)i * shentsize;

                // Elf64_Shdr: sh_name u32, sh_type u32, sh_flags u64, sh_addr u64, sh_offset u64, sh_size u64,
                // sh_link u32, sh_info u32, sh_addralign u64, sh_entsize u64
                sections[i] = new Section(U32(s), U32(s + 4), U64(s + 24), U64(s + 32), U32(s + 40), U32(s + 44));
            }

            Sections = sections;
        }

        public IReadOnlyList<Section> Sections { get; }

        public ushort U16(long o) => (ushort)(_data[Check(o, 2)] | (_data[o + 1] << 8));

        public uint U32(long o) => BitConverter.ToUInt32(_data, (int)Check(o, 4));

        public ulong U64(long o) => BitConverter.ToUInt64(_data, (int)Check(o, 8));

        public string String(Section strtab, uint index)
        {
            long start = (long)strtab.Offset + index;
            long end = start;
            long limit = Math.Min(_data.LongLength, (long)(strtab.Offset + strtab.Size));
            while (end < limit && _data[end] != 0)
            {
                end++;
            }

            return Encoding.ASCII.GetString(_data, (int)Check(start, 0), (int)(end - start));
        }

        private long Check(long o, int n)
        {
            if (o < 0 || o + n > _data.LongLength)
            {
                throw new InvalidDataException("offset outside the file");
            }

            return o;
        }
    }
}
