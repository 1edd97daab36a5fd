# Sum 1..30,000,000 in a for loop over a range.
total = 0
for i in range(1, 30000001): total += i
print(total)
