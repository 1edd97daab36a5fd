" Vim syntax file
" Language:    NetScript (.net)
" Maintainer:  the NetScript project (see editors/README.md)
" The keywords and operators are those of grammar.md; GrammarDriftTests checks that each is here.

if exists("b:current_syntax")
  finish
endif

syn case match
syn iskeyword @,48-57,_,192-255

" Keywords.
syn keyword netscriptConditional if else
syn keyword netscriptRepeat      while for in
syn keyword netscriptDefine      fn nextgroup=netscriptFunction skipwhite
syn keyword netscriptStatement   return break continue import global
syn keyword netscriptException   try catch finally
syn keyword netscriptOperatorWord and or not
syn keyword netscriptConstant    true false nil
" Contextual words: `spawn` before `{` and `parallel` before `for`; plain names elsewhere.
syn match   netscriptRepeat      "\<spawn\>\ze\s*{"
syn match   netscriptRepeat      "\<parallel\>\ze\s\+for\>"
syn match   netscriptFunction    "\h\w*" contained

" Operators and punctuation, longest first (very nomagic: each alternative is
" literal). Defined first: at the same column a later match wins, so `...` beats `.`, and numbers,
" addresses and labels beat both.
syn match   netscriptDelimiter   #\V(\|)\|[\|]\|{\|}\|,\|:\|;\|.#
syn match   netscriptOperator    #\V...\|**=\|//=\|**\|//\|==\|!=\|<=\|>=\|+=\|-=\|*=\|/=\|%=\|&&\|||\|+\|-\|*\|/\|%\|&\|^\||\|!\|<\|>\|=#

" Comments and the shebang line.
syn match   netscriptComment     "#.*$" contains=netscriptTodo,@Spell
syn match   netscriptShebang     "\%^#!.*$"
syn keyword netscriptTodo        TODO FIXME XXX contained

" Options and map keys: `name:` (but not `::` of an IPv6 address).
syn match   netscriptLabel       "\<\h\w*:\(:\)\@!"

" Numbers and addresses (IPv4, IPv6, networks).
syn match   netscriptNumber      "\<\d[0-9_]*\(\.\d[0-9_]*\)\=\([eE][-+]\=\d\+\)\=\>"
syn match   netscriptNumber      "\<0[xX][0-9A-Fa-f_]\+\>"
syn match   netscriptNumber      "\<0[bB][01_]\+\>"
syn match   netscriptNumber      "\<0[oO][0-7_]\+\>"
syn match   netscriptAddress     "\<\d\+\.\d\+\.\d\+\.\d\+\(/\d\+\)\=\>"
syn match   netscriptAddress     "\([0-9A-Fa-f]\{0,4}:\)\{2,7}\([0-9A-Fa-f]\{1,4}\|\d\+\.\d\+\.\d\+\.\d\+\)\=\(%\w\+\|/\d\+\)\="

" Strings: double quotes interpolate {expr}; single quotes are raw; b"…" are bytes.
syn match   netscriptEscape      "\\\(x\x\x\|u{\x\+}\|[nrt0\\"'{}]\)" contained
syn match   netscriptRawEscape   "\\['\\]" contained
syn region  netscriptInterp      matchgroup=netscriptInterpDelim start="{" end="}" contained contains=TOP
syn region  netscriptString      start=+"+ skip=+\\\\\|\\"+ end=+"+ contains=netscriptEscape,netscriptInterp,@Spell
syn region  netscriptRawString   start=+'+ skip=+\\\\\|\\'+ end=+'+ contains=netscriptRawEscape
syn region  netscriptBytes       start=+\<b"+ skip=+\\\\\|\\"+ end=+"+ contains=netscriptEscape
syn region  netscriptBytes       start=+\<b'+ skip=+\\\\\|\\'+ end=+'+ contains=netscriptEscape

hi def link netscriptConditional  Conditional
hi def link netscriptRepeat       Repeat
hi def link netscriptStatement    Statement
hi def link netscriptDefine       Keyword
hi def link netscriptException    Exception
hi def link netscriptOperatorWord Operator
hi def link netscriptConstant     Constant
hi def link netscriptFunction     Function
hi def link netscriptComment      Comment
hi def link netscriptShebang      PreProc
hi def link netscriptTodo         Todo
hi def link netscriptLabel        Identifier
hi def link netscriptNumber       Number
hi def link netscriptAddress      Number
hi def link netscriptOperator     Operator
hi def link netscriptDelimiter    Delimiter
hi def link netscriptEscape       SpecialChar
hi def link netscriptRawEscape    SpecialChar
hi def link netscriptInterpDelim  Special
hi def link netscriptString       String
hi def link netscriptRawString    String
hi def link netscriptBytes        String

let b:current_syntax = "netscript"
