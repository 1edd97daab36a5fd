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

    /// parallel_for = "parallel" "for" NAME [ "," NAME ] "in" condition { LABEL arg_value } block ;
    ///     (* LABEL is concurrency:, errors: or rate:; at the condition's own level they end it *)
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
        // The options parallel for knows end the items at this level (`lines "h.txt" rate: 5`
        // gives rate: to the loop, not to lines); inside brackets they are the command's again.
        let saved = reservedLabels
        reservedLabels = Parser.parallelOptions
        let items: Expr
        do { defer { reservedLabels = saved }; items = try parseCondition() }
        var options: [Argument] = []
        while case .label(let name) = peek.kind, Parser.parallelOptions.contains(name) {
            options.append(try parseArgument())
        }
        let body = try parseBlock()
        let range = head.range.to(previousRange)
        let decl = FunctionDecl(name: "parallel for", params: params, body: body, range: range)
        let command = Expr(.field(Expr(.name("parallel"), head.range), "for"), head.range)
        return Expr(.call(command, [.positional(items), .positional(Expr(.function(decl), range))] + options, bare: false), range)
    }
}
