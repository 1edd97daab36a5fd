-- Sum 1..30,000,000 in a for loop over a range (a chunk's locals).
local total = 0
for i = 1, 30000000 do total = total + i end
print(total)
