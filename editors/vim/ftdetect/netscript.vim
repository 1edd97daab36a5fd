" NetScript: *.net files, and scripts whose first line is a netscript shebang.
autocmd BufNewFile,BufRead *.net setfiletype netscript
autocmd BufNewFile,BufRead * if getline(1) =~# '^#!.*\<netscript\>' | setfiletype netscript | endif
