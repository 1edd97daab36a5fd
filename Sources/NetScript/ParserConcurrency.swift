/// The concurrency forms: `spawn { … }` and `parallel for … { … }`. Both are sugar over
/// commands (`spawn FUNCTION`, `parallel.for ITEMS FUNCTION`), so the compiler needs nothing
/// new: the block becomes a function literal. `spawn` and `parallel` are contextual words
/// (`ContextualWord`): names everywhere except before `{` and `for`.
extension Parser {
    /// The options that belong to `parallel for` itself when they end its items expression.
    static let parallelOptions: Set<String> = ["concurrency", "errors", "rate"]

    /// spawn_block = "spawn" block ;    (* `spawn f x` is the command spawn with arguments *)
    mutating func parseSpawnBlock() throws -> Expr {
        let head = advance()
        let body = try parseBlock()
        let range = head.range.to(previousRange)
        let decl = FunctionDecl(name: "spawn", params: [], body: body, range: range)
        return Expr(.call(Expr(.name("spawn"), head.range), [.positional(Expr(.function(decl), range))], bare: false), range)
    }

    /// parallel_for = "parallel" "for" NAME [ "," NAME ] "in" condition block ;
    ///     (* the condition's trailing concurrency: errors: rate: options belong to parallel for *)
    mutating func parseParallelFor() throws -> Expr {
        let head = advance()
        advance()   // for
        var params: [Parameter] = []
        let (first, firstRange) = try expectIdent("a loop variable name after 'parallel for'")
        params.append(Parameter(name: first, defaultValue: nil, isRest: false, range: firstRange))
        if check(.comma) {
            advance()
            let (second, secondRange) = try expectIdent("a second loop variable name")
            params.append(Parameter(name: second, defaultValue: nil, isRest: false, range: secondRange))
        }
        guard check(.in) else { throw expected("'in' after the loop variable") }
        advance()
        var items = try parseCondition()
        var options: [Argument] = []
        // `hosts concurrency: 200` parses as a command with options: the trailing options
        // parallel for knows are its own; what is left is the items expression.
        if case .call(let callee, var args, _) = items.kind {
            while case .option(let name, _, _)? = args.last, Parser.parallelOptions.contains(name) {
                options.insert(args.removeLast(), at: 0)
            }
            if !options.isEmpty {
                if args.isEmpty {
                    switch callee.kind {
                    case .name, .field: items = Expr(.call(callee, [], bare: true), callee.range)
                    default: items = callee
                    }
                } else {
                    items = Expr(.call(callee, args, bare: false), items.range)
                }
            }
        }
        let body = try parseBlock()
        let range = head.range.to(previousRange)
        let decl = FunctionDecl(name: "parallel for", params: params, body: body, range: range)
        let command = Expr(.field(Expr(.name("parallel"), head.range), "for"), head.range)
        return Expr(.call(command, [.positional(items), .positional(Expr(.function(decl), range))] + options, bare: false), range)
    }
}
