using Mono.Cecil;

namespace MlNet.Rnn.Build;

/// <summary>
/// The ML.NET internals MlNet.Rnn compiles against, kept in one list (<c>src/MlNet.Rnn/build/MlNetInternals.txt</c>): one line
/// per type or member, <c>&lt;assembly&gt;: &lt;Cecil full name&gt;</c>. Two checks keep it true:
/// <list type="bullet">
/// <item><see cref="Missing"/>, at build time (the publicizer runs it on the ML.NET being compiled against): every listed
/// internal still exists, or the build fails naming each one that is gone, before the compiler's own errors;</item>
/// <item><see cref="UsedBy"/>, in the tests: the list is exactly what the built MlNet.Rnn.dll refers to that the real
/// ML.NET assemblies do not make public.</item>
/// </list>
/// </summary>
internal static class MlNetInternals
{
    /// <summary>Reads the list: <c>(assembly, full name)</c> pairs; blank lines and <c>#</c> comments are skipped.</summary>
    public static List<(string Assembly, string Name)> Read(string listPath)
    {
        var entries = new List<(string, string)>();
        foreach (string raw in File.ReadAllLines(listPath))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon <= 0) throw new InvalidOperationException($"{listPath}: '{line}' is not '<assembly>: <full name>'.");
            entries.Add((line[..colon], line[(colon + 2)..]));
        }
        return entries;
    }

    /// <summary>The listed entries of <paramref name="assembly"/> that it does not define (by full name).</summary>
    public static IEnumerable<string> Missing(AssemblyDefinition assembly, IEnumerable<(string Assembly, string Name)> entries)
    {
        var defined = new HashSet<string>(StringComparer.Ordinal);
        foreach (var type in assembly.Modules.SelectMany(module => module.GetTypes()))
        {
            defined.Add(type.FullName);
            foreach (var method in type.Methods) defined.Add(method.FullName);
            foreach (var field in type.Fields) defined.Add(field.FullName);
        }
        return entries.Where(entry => entry.Assembly == assembly.Name.Name && !defined.Contains(entry.Name)).Select(entry => entry.Name);
    }

    /// <summary>
    /// The types and members of the assemblies named in <paramref name="mlNetAssemblies"/> that <paramref name="module"/>
    /// refers to and that are not visible outside them (not public, or declared in a type that is not), as list lines, sorted.
    /// <paramref name="module"/>'s resolver must find the real (not publicized) assemblies. A reference that does not resolve
    /// is listed as <c>unresolved</c>.
    /// </summary>
    public static SortedSet<string> UsedBy(ModuleDefinition module, IReadOnlySet<string> mlNetAssemblies)
    {
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var reference in module.GetTypeReferences())
        {
            if (ScopeOf(reference) is not string scope || !mlNetAssemblies.Contains(scope)) continue;
            var type = reference.Resolve();
            if (type is null) used.Add($"{scope}: unresolved {reference.FullName}");
            else if (!IsVisible(type)) used.Add($"{scope}: {type.FullName}");
        }
        foreach (var reference in module.GetMemberReferences())
        {
            if (ScopeOf(reference.DeclaringType) is not string scope || !mlNetAssemblies.Contains(scope)) continue;
            IMemberDefinition? member = reference switch
            {
                MethodReference method => method.Resolve(),
                FieldReference field => field.Resolve(),
                _ => null,
            };
            if (member is null) used.Add($"{scope}: unresolved {reference.FullName}");
            else if (!IsVisible(member)) used.Add($"{scope}: {member.FullName}");
        }
        return used;
    }

    private static string? ScopeOf(TypeReference type)
    {
        type = type.GetElementType();
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type.Scope switch
        {
            AssemblyNameReference name => name.Name,
            ModuleDefinition module => module.Assembly.Name.Name,
            _ => null,
        };
    }

    // What another assembly may see: public, or protected (a derived class of ours may use it), in public types all the way out.
    private static bool IsVisible(IMemberDefinition member)
    {
        bool own = member switch
        {
            TypeDefinition type => type.IsNested ? type.IsNestedPublic || type.IsNestedFamily || type.IsNestedFamilyOrAssembly : type.IsPublic,
            MethodDefinition method => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly,
            FieldDefinition field => field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly,
            _ => true,
        };
        return own && (member.DeclaringType is null || IsVisible(member.DeclaringType));
    }
}
