# CLIENTS concurrent connections, each echoing MESSAGES messages and checking every reply:
# args PORT CLIENTS MESSAGES. Prints "seconds lost" (lost counts wrong or missing replies).
import asyncio, sys, time
port, clients, messages = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

async def client(i):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    lost = 0
    for j in range(messages):
        m = b"client %d message %d\n" % (i, j)
        w.write(m)
        line = await asyncio.wait_for(r.readline(), 30)
        if line != m:
            lost += 1
    w.close()
    await w.wait_closed()
    return lost

async def main():
    t = time.perf_counter()
    results = await asyncio.gather(*(client(i) for i in range(clients)), return_exceptions=True)
    lost = sum(messages if isinstance(x, BaseException) else x for x in results)
    print(f"{time.perf_counter() - t:.2f} {lost}")

asyncio.run(main())
