# Sum 1..10,000,000 in a loop.
total = 0
for i in range(1, 10000001): total += i
print(total)
