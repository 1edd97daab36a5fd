# Sum 1..30,000,000 in a while loop at the top level.
total = 0
i = 1
while i <= 30000000:
    total += i
    i += 1
print(total)
