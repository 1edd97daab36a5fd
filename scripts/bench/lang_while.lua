-- Sum 1..30,000,000 in a while loop at the top level (a chunk's locals).
local total = 0
local i = 1
while i <= 30000000 do
    total = total + i
    i = i + 1
end
print(total)
