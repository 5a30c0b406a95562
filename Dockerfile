FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY processor ./processor
COPY topics ./topics
RUN pip install --no-cache-dir -c constraints.txt .
USER nobody
EXPOSE 6066
CMD ["claims-processor", "worker"]
